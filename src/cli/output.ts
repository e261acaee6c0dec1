// The one writer for `-o`. stdout, or the file the user chose:
// - never a file this run reads: an output that is the same file (device and inode, after
//   following links) as an input or an option's file is refused, so `sign f --key key.pem
//   -o key.pem` cannot destroy the key;
// - a character device or FIFO (/dev/null, a pipe to another program) is written into, never
//   replaced by a regular file;
// - a regular file is replaced atomically (a temp file beside it, then rename), so an error
//   never leaves a half-written report; through a symlink, the file the link points at is
//   replaced and the link is kept. A dangling symlink is refused: where it points may be a
//   surprise, and the link is not ours to replace.
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  realpathSync,
  renameSync,
  rmSync,
  type Stats,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { errnoOf } from '../io/fs-error.ts';
import { fileTypeName } from '../io/option-file.ts';
import { InputError } from '../model/errors.ts';

/** Where a command will write, checked before the work starts and again when written. */
export interface PlannedOutput {
  write(text: string): void;
}

/**
 * The output `file` (undefined or `-`: stdout) of a run that reads `inputs` (targets and
 * option files). An output that is one of the inputs is refused now, before a long read is
 * wasted on a result that could not be written; the write checks again.
 */
export function planOutput(file: string | undefined, inputs: readonly (string | undefined)[]): PlannedOutput {
  if (file !== undefined && file !== '-') {
    const st = statOrAbsent(file);
    if (st) refuseInput(file, st, inputs);
  }
  return { write: (text) => writeOutput(text, file, inputs) };
}

/**
 * Write `text` (with a final newline) to stdout (`file` undefined or `-`) or to `file`.
 * `inputs` are every path the run read: targets and option files.
 */
export function writeOutput(text: string, file: string | undefined, inputs: readonly (string | undefined)[]): void {
  const data = text.endsWith('\n') ? text : `${text}\n`;
  if (file === undefined || file === '-') {
    process.stdout.write(data);
    return;
  }
  const st = statOrAbsent(file);
  if (st) refuseInput(file, st, inputs);
  if (st && (st.isCharacterDevice() || st.isFIFO())) writeInto(file, data);
  else if (st && !st.isFile()) throw new InputError('OUTPUT', file, `${fileTypeName(st)}: cannot write output there`);
  else replaceAtomically(st ? realpathSync(file) : noDanglingLink(file), data, file);
}

function statOrAbsent(file: string): Stats | undefined {
  try {
    return statSync(file);
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return undefined;
    throw outputError(file, e);
  }
}

function refuseInput(file: string, out: Stats, inputs: readonly (string | undefined)[]): void {
  for (const input of inputs) {
    if (input === undefined) continue;
    let st: Stats;
    try {
      st = statSync(input);
    } catch {
      continue; // an input that is not there cannot be overwritten
    }
    if (st.dev === out.dev && st.ino === out.ino)
      throw new InputError(
        'OUTPUT',
        file,
        `is ${input === file ? 'an input' : `the same file as ${input}, an input`} of this run: choose another output file`,
      );
  }
}

/** A character device or FIFO: open it for writing (no create, no truncate) and write. */
function writeInto(file: string, data: string): void {
  let fd: number;
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_NOCTTY);
  } catch (e) {
    throw outputError(file, e);
  }
  try {
    // Checked on the descriptor: a regular file swapped in since the stat would be written
    // over in place, without truncation.
    if (fstatSync(fd).isFile()) throw new InputError('OUTPUT', file, 'changed while being opened: not written');
    const bytes = Buffer.from(data);
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
  } catch (e) {
    throw e instanceof InputError ? e : outputError(file, e);
  } finally {
    closeSync(fd);
  }
}

/** Nothing at `file`: it must not be a symlink to nothing (the path to write is then `file`). */
function noDanglingLink(file: string): string {
  let link = false;
  try {
    link = lstatSync(file).isSymbolicLink();
  } catch {
    // nothing there at all: the file is created
  }
  if (link) throw new InputError('OUTPUT', file, 'a symlink to nothing: name the file to write');
  return file;
}

function replaceAtomically(target: string, data: string, file: string): void {
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, data, { flag: 'wx', mode: 0o644 });
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw outputError(file, e);
  }
}

function outputError(file: string, e: unknown): InputError {
  return new InputError('OUTPUT', file, `cannot write output (${errnoOf(e)})`, { cause: e });
}
