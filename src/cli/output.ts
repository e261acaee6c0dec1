// Writing results: to stdout, or to the file the user chose, atomically, so an error never
// leaves a half-written SBOM behind and nothing is written anywhere else.
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../model/errors.ts';

export function writeOutput(text: string, file: string | undefined): void {
  if (file === undefined || file === '-') {
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    return;
  }
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, text.endsWith('\n') ? text : `${text}\n`, { flag: 'wx', mode: 0o644 });
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    const reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new InputError('OUTPUT', file, `cannot write output (${reason})`);
  }
}
