# Sourced by ./quickstart and .ci/run: puts a Node.js 24 or newer first on the PATH. A machine's
# own Node is used when it is new enough; otherwise Node 24 comes from the npm registry (the
# `node` package, whose bin is the official binary) into a cache outside the project, so an
# old Debian Node and npm are enough to start. K3SGUARD_NODE_CACHE chooses that cache.
k3sguard_node_ok() {
  "$1" -e 'process.exit(+process.versions.node.split(".")[0] >= 24 ? 0 : 1)' 2>/dev/null
}

k3sguard_node24() {
  if command -v node >/dev/null && k3sguard_node_ok node; then return 0; fi
  local cache="${K3SGUARD_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/k3sguard-node}"
  if ! k3sguard_node_ok "$cache/node_modules/.bin/node"; then
    if ! command -v npm >/dev/null; then
      echo "k3sguard: needs Node.js 24 or npm (any version) to fetch it: apt-get install npm, or see https://nodejs.org/en/download" >&2
      return 2
    fi
    echo "k3sguard: installing Node 24 from the npm registry into $cache" >&2
    npm install --prefix "$cache" --no-audit --no-fund --loglevel=error node@24 >&2 || return 2
  fi
  export PATH="$cache/node_modules/.bin:$PATH"
}
