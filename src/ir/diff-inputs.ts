// What `ir diff` was given: the evidence is always an evidence archive; the baseline is an
// evidence archive (zstd, by its magic) or a k3sguard.lock (JSON). Anything else is named as
// neither, before any of it is read as one or the other.
import { open } from 'node:fs/promises';
import { InputError } from '../model/errors.ts';
import { readLock } from '../verify/lock/format.ts';
import { type DiffResult, diffEvidence } from './diff.ts';
import { diffAgainstLock } from './diff-lock.ts';
import { readNodeState } from './node-state.ts';

const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

async function firstBytes(file: string): Promise<Buffer> {
  const fh = await open(file, 'r').catch((e: NodeJS.ErrnoException) => {
    throw new InputError(
      e.code === 'ENOENT' ? 'NOT_FOUND' : 'UNREADABLE',
      file,
      e.code === 'ENOENT' ? 'no such file' : `cannot read: ${e.code ?? e}`,
    );
  });
  try {
    const b = Buffer.alloc(16);
    const { bytesRead } = await fh.read(b, 0, 16, 0);
    return b.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

export async function diffFiles(baseline: string, evidence: string): Promise<DiffResult> {
  const head = await firstBytes(baseline);
  if (head.subarray(0, 4).equals(ZSTD_MAGIC)) {
    const a = await readNodeState(baseline);
    return diffEvidence(a, await readNodeState(evidence));
  }
  if (head.toString('utf8').trimStart().startsWith('{')) {
    const lock = readLock(baseline, { create: false });
    return diffAgainstLock(baseline, lock, await readNodeState(evidence));
  }
  throw new InputError(
    'USAGE',
    baseline,
    'neither an evidence archive (ir collect, zstd) nor a k3sguard.lock (JSON): cannot be a baseline',
  );
}
