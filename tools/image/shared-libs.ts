// The shared libraries an executable needs, as the build host's dynamic loader finds them:
// `ldd` prints the whole closure (DT_NEEDED of the executable, of those libraries in turn, and
// the interpreter named in PT_INTERP), each at the path the loader opens, which is the path the
// image must answer to. ldd runs the loader on the file, so it is only ever pointed at
// executables this project built (or the official Node binary it is built from).
import { execFileSync } from 'node:child_process';

/** Absolute paths the loader opens for `executable`, interpreter included, in ldd's order. */
export function sharedLibraries(executable: string): string[] {
  let out: string;
  try {
    out = execFileSync('ldd', [executable], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const r = e as { stdout?: string; stderr?: string; message: string };
    // A static executable needs nothing: ldd says so and exits 1.
    if (/not a dynamic executable/.test(`${r.stdout}${r.stderr}`)) return [];
    throw new Error(`ldd ${executable}: ${r.stderr?.trim() || r.message}`);
  }
  const paths: string[] = [];
  for (const raw of out.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (/=> not found/.test(line)) throw new Error(`${executable}: the host has no ${line.split(' ')[0]}`);
    // `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)`, or the interpreter alone:
    // `/lib64/ld-linux-x86-64.so.2 (0x...)`. The vDSO (`linux-vdso.so.1 (0x...)`) is the
    // kernel's and has no file.
    const m = /^(?:\S+ => )?(\/\S+) \(0x[0-9a-f]+\)$/.exec(line);
    if (m?.[1]) paths.push(m[1]);
    else if (!/^linux-(vdso|gate)\.so\.\d+ \(0x[0-9a-f]+\)$/.test(line))
      throw new Error(`ldd ${executable}: unexpected line "${line}"`);
  }
  return paths;
}
