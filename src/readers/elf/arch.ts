// GOARCH-style names for ELF machines: the names a Go user knows a binary by. The ELF
// machine alone is not enough: class and byte order tell mips from mips64le, ppc64 from
// ppc64le. A machine Go does not build for keeps its number (`machine-<n>`), never a guess.

const EM_386 = 3;
const EM_MIPS = 8;
const EM_PPC64 = 21;
const EM_S390 = 22;
const EM_ARM = 40;
const EM_X86_64 = 62;
const EM_AARCH64 = 183;
const EM_RISCV = 243;
const EM_LOONGARCH = 258;

export function elfArchName(machine: number, is64: boolean, little: boolean): string {
  const known = goArch(machine, is64, little);
  return known ?? `machine-${machine}`;
}

function goArch(machine: number, is64: boolean, little: boolean): string | undefined {
  switch (machine) {
    case EM_386:
      return is64 ? undefined : '386';
    case EM_X86_64:
      return is64 ? 'amd64' : undefined; // ELF32 x86-64 is the x32 ABI, which Go does not target
    case EM_ARM:
      return is64 ? undefined : 'arm';
    case EM_AARCH64:
      return is64 ? 'arm64' : undefined;
    case EM_S390:
      return is64 ? 's390x' : undefined;
    case EM_PPC64:
      return is64 ? (little ? 'ppc64le' : 'ppc64') : undefined;
    case EM_MIPS:
      return (is64 ? 'mips64' : 'mips') + (little ? 'le' : '');
    case EM_RISCV:
      return is64 ? 'riscv64' : undefined;
    case EM_LOONGARCH:
      return is64 ? 'loong64' : undefined;
    default:
      return undefined;
  }
}
