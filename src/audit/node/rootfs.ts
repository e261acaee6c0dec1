// A node's files under an audit root (`/`, or a mounted node image with --root). Paths are
// resolved the way the kernel would inside a chroot at the root: an absolute symlink target
// starts again at the root and `..` stops there, so no link in a hostile image can make the
// audit read a file of the machine running it. Each read says plainly why a file could not
// be read (a per-file problem), so one bad file never stops the audit.
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
  type Stats,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { MAX_SYMLINK_HOPS, resolveRooted } from '../../io/rooted-path.ts';
import type { FileProblem } from '../result.ts';

/** A path here as the walk sees it; what exists carries its lstat. */
type FsNode =
  | { kind: 'dir' | 'other'; st: Stats }
  | { kind: 'symlink'; target: string; st: Stats }
  | { kind: 'missing' }
  | { kind: 'unreadable'; why: string };

export type Resolution =
  /** `rel`: the real path relative to the root, no symlink left in it; `host`: where it is here. */
  | { kind: 'found'; rel: string; host: string; st: Stats }
  | { kind: 'absent' }
  | { kind: 'problem'; problem: FileProblem };

export type TextRead =
  | { kind: 'text'; file: string; rel: string; host: string; text: string; bytes: Buffer; st: Stats }
  | { kind: 'absent' }
  | { kind: 'problem'; problem: FileProblem };

/** A node path (`/etc/rancher/k3s/config.yaml`) as findings name it: relative to the root. */
export function relName(path: string): string {
  return path.replace(/^\/+/, '');
}

function errno(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : String(e));
}

export class NodeRoot {
  /** Absolute path of the root here. */
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  host(rel: string): string {
    return rel === '' ? this.dir : join(this.dir, rel);
  }

  /** Resolve a node path inside the root, following every symlink, the last component included. */
  resolve(path: string): Resolution {
    const file = relName(path);
    const where = resolveRooted(file, { lookup: (rel) => this.node(rel), leaving: 'clamp' });
    switch (where.kind) {
      case 'found':
        return { kind: 'found', rel: where.path, host: this.host(where.path), st: where.node.st };
      case 'missing':
      case 'not-a-directory':
        return { kind: 'absent' };
      case 'loop':
        return {
          kind: 'problem',
          problem: { file, kind: 'symlink-loop', message: `more than ${MAX_SYMLINK_HOPS} symlinks: a symlink loop` },
        };
      case 'unreadable':
        return { kind: 'problem', problem: { file, kind: 'unreadable', message: where.why } };
    }
  }

  /** What a root-relative path is here, by lstat (and readlink for a symlink). */
  private node(rel: string): FsNode {
    let st: Stats;
    try {
      st = lstatSync(this.host(rel));
    } catch (e) {
      const code = errno(e);
      if (rel !== '' && (code === 'ENOENT' || code === 'ENOTDIR')) return { kind: 'missing' };
      return { kind: 'unreadable', why: rel === '' ? `cannot read the root (${code})` : `cannot read (${code})` };
    }
    if (!st.isSymbolicLink()) return { kind: st.isDirectory() ? 'dir' : 'other', st };
    try {
      return { kind: 'symlink', target: readlinkSync(this.host(rel)), st };
    } catch (e) {
      return { kind: 'unreadable', why: `cannot read symlink (${errno(e)})` };
    }
  }

  /**
   * Read a text file of at most `maxBytes`: binary content (NUL bytes, invalid UTF-8), size,
   * and anything but a regular file are problems. `bytes` are exactly what `text` was read from.
   */
  readText(path: string, maxBytes: number): TextRead {
    const file = relName(path);
    const where = this.resolve(path);
    if (where.kind !== 'found') return where;
    const problem = (kind: FileProblem['kind'], message: string): TextRead => ({
      kind: 'problem',
      problem: { file, kind, message },
    });
    if (where.st.isDirectory()) return problem('unreadable', 'is a directory, not a file');
    if (!where.st.isFile()) return problem('unreadable', 'is not a regular file (device, FIFO or socket)');
    if (where.st.size > maxBytes)
      return problem('too-large', `is ${where.st.size} bytes, over the ${maxBytes}-byte limit`);
    let fd: number;
    try {
      fd = openSync(where.host, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (e) {
      return problem('unreadable', `cannot read (${errno(e)})`);
    }
    let bytes: Buffer;
    let st: Stats;
    try {
      st = fstatSync(fd);
      if (!st.isFile() || st.ino !== where.st.ino) return problem('unreadable', 'changed while being read');
      // One byte more than allowed: a file that grew past the limit since lstat is caught too.
      const buf = Buffer.allocUnsafe(Math.min(st.size, maxBytes) + 1);
      let got = 0;
      for (let n = 1; n > 0 && got < buf.length; got += n) n = readSync(fd, buf, got, buf.length - got, got);
      if (got > maxBytes) return problem('too-large', `grew over the ${maxBytes}-byte limit while being read`);
      bytes = buf.subarray(0, got);
    } catch (e) {
      return problem('unreadable', `cannot read (${errno(e)})`);
    } finally {
      closeSync(fd);
    }
    if (bytes.includes(0)) return problem('binary', 'holds NUL bytes: not a text file');
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      return problem('binary', 'is not valid UTF-8: not a text file');
    }
    return { kind: 'text', file, rel: where.rel, host: where.host, text, bytes, st };
  }

  /** The names in a directory, sorted bytewise as Go's os.ReadDir does; absent: empty. */
  list(
    path: string,
  ): { kind: 'dir'; rel: string; names: string[] } | { kind: 'absent' } | { kind: 'problem'; problem: FileProblem } {
    const where = this.resolve(path);
    if (where.kind !== 'found') return where;
    const file = relName(path);
    if (!where.st.isDirectory())
      return { kind: 'problem', problem: { file, kind: 'unreadable', message: 'is not a directory' } };
    try {
      const names = readdirSync(where.host).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      return { kind: 'dir', rel: where.rel, names };
    } catch (e) {
      return { kind: 'problem', problem: { file, kind: 'unreadable', message: `cannot list (${errno(e)})` } };
    }
  }
}
