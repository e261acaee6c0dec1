# Sourced by ./quickstart: installs the Debian packages whose commands or files are missing, and
# fetches the package lists once (the tests' `apt-get download` needs them). Each argument is
# COMMAND=PACKAGE, or /PATH=PACKAGE for a file that must exist; a PACKAGE:ARCH of another
# architecture adds that architecture to dpkg first (multiarch). As root it runs apt-get;
# otherwise it says what to install and returns 1, and the caller decides whether that is fatal.
k3sguard_debian_tools() {
  export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
  local need=() pair
  for pair in "$@"; do
    local what="${pair%%=*}"
    if [[ $what == /* ]]; then [[ -e $what ]] && continue; else command -v "$what" >/dev/null && continue; fi
    need+=("${pair#*=}")
  done
  if ((${#need[@]} == 0)) && ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then return 0; fi
  if [[ $(id -u) != 0 ]]; then
    ((${#need[@]} == 0)) && return 0
    echo "k3sguard: missing Debian packages: ${need[*]} (apt-get install them as root)" >&2
    return 1
  fi
  local arch
  for arch in $(printf '%s\n' "${need[@]}" | sed -n 's/^[^:]*:\(.*\)$/\1/p' | sort -u); do
    dpkg --print-foreign-architectures | grep -qx "$arch" || dpkg --add-architecture "$arch"
  done
  echo "k3sguard: apt-get install ${need[*]:-(package lists only)}" >&2
  apt-get update -qq
  if ((${#need[@]})); then DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; fi
}
