// What K3s really runs: the executables of k3s, containerd, the containerd shims and runc,
// read through /proc/<pid>/exe (the kernel's handle on the very file the process was started
// from, even once it is gone from its path). Each is hashed and checked against the bundle it
// came from: an executable in `data/<hash>/bin` must be listed in that bundle's
// `bin/.sha256sums` with its digest. `(deleted)` after the link means the file was removed or
// replaced while the process ran. Executables elsewhere (a distribution's containerd) belong to
// no bundle: they are listed, not judged.
//
// Reading another user's /proc/<pid>/exe needs CAP_SYS_PTRACE (and CAP_DAC_READ_SEARCH): a
// process this agent may not look at is a note, never an error. Processes come and go while
// /proc is walked; one that ended is simply left out.
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { errnoOf } from '../../io/fs-error.ts';
import { sha256File } from '../../io/hashing.ts';
import type { Finding } from '../../model/inventory.ts';
import { processRule } from '../../model/rules/process.ts';
import { ruleFinding } from '../../model/rules/rule.ts';
import { parseSha256sums, SUMS_PATH } from '../../readers/bundle/manifest.ts';

export interface ProcessCheckOptions {
  /** Host path of the proc filesystem to read. */
  proc: string;
  /** Host path of the node's root: executables' paths are node paths under it. */
  root: string;
  /** Node path of K3s's data dir (`/var/lib/rancher/k3s`). */
  dataDir: string;
  /**
   * Digests of executables already hashed, by device, inode, size and mtime: the k3s binary
   * is large and does not change between checks (a changed file is a new inode or mtime).
   */
  digestCache?: Map<string, string>;
}

export type ProcessStatus =
  | 'verified' // in a bundle's bin, with the digest its sums list
  | 'modified' // in a bundle's bin, with another digest
  | 'unlisted' // in a bundle's bin, not in its sums
  | 'unverified' // in a bundle's bin whose sums cannot be read
  | 'deleted' // the file it was started from is gone or replaced
  | 'outside' // not in K3s's data dir: belongs to no bundle
  | 'unreadable'; // this agent may not read /proc/<pid>/exe

export interface RuntimeProcess {
  pid: number;
  /** The kernel's name for it (`/proc/<pid>/comm`). */
  name: string;
  /** Node path of the executable (without ` (deleted)`), when readable. */
  exe?: string;
  sha256?: string;
  status: ProcessStatus;
}

export interface ProcessNote {
  location: string[];
  message: string;
}

export interface ProcessCheckResult {
  /** False when there is no proc filesystem to read (a mounted node image). */
  available: boolean;
  processes: RuntimeProcess[];
  findings: Finding[];
  notes: ProcessNote[];
}

const DELETED = ' (deleted)';

/** The kernel names (comm, at most 15 characters) of the processes worth looking at. */
function interesting(comm: string): boolean {
  return comm.startsWith('k3s') || comm.startsWith('containerd') || comm === 'runc';
}

/** The executables that are K3s's: the k3s binary, containerd, its shims, runc. */
function isK3sExecutable(exe: string): boolean {
  const name = posix.basename(exe);
  return name === 'k3s' || name === 'containerd' || name.startsWith('containerd-shim') || name === 'runc';
}

export function checkProcesses(opts: ProcessCheckOptions): ProcessCheckResult {
  const result: ProcessCheckResult = { available: false, processes: [], findings: [], notes: [] };
  let pids: number[];
  try {
    pids = readdirSync(opts.proc)
      .filter((n) => /^\d+$/.test(n))
      .map(Number)
      .sort((a, b) => a - b);
  } catch (e) {
    result.notes.push({
      location: [opts.proc],
      message: `processes not checked: cannot list ${opts.proc} (${errnoOf(e)})`,
    });
    return result;
  }
  result.available = true;
  const sums = new Map<string, Map<string, string> | string>();
  const reported = new Set<string>();
  const unreadable: number[] = [];
  for (const pid of pids) {
    const dir = join(opts.proc, String(pid));
    let comm: string;
    try {
      comm = readFileSync(join(dir, 'comm'), 'utf8').trimEnd();
    } catch {
      continue; // ended while listed
    }
    if (!interesting(comm)) continue;
    let link: string;
    try {
      link = readlinkSync(join(dir, 'exe'));
    } catch (e) {
      const code = errnoOf(e);
      if (code === 'EACCES' || code === 'EPERM') {
        unreadable.push(pid);
        result.processes.push({ pid, name: comm, status: 'unreadable' });
      }
      continue; // ENOENT: ended, or a kernel thread
    }
    const deleted = link.endsWith(DELETED);
    const exe = nodePath(opts.root, deleted ? link.slice(0, -DELETED.length) : link);
    if (!isK3sExecutable(exe)) continue;
    const proc: RuntimeProcess = { pid, name: comm, exe, status: 'outside' };
    result.processes.push(proc);
    const once = (rule: string) => {
      const key = `${rule}\0${exe}`;
      if (reported.has(key)) return false;
      reported.add(key);
      return true;
    };
    if (deleted) {
      proc.status = 'deleted';
      if (once('deleted')) {
        result.findings.push(
          ruleFinding(
            processRule('K3SG-PROCESS-EXE-DELETED'),
            `${comm} (pid ${pid}) runs ${exe}, which was deleted or replaced after it started: what runs can no longer be checked against the file.`,
            [exe],
          ),
        );
      }
      continue;
    }
    const digest = hashExe(join(dir, 'exe'), opts.digestCache);
    if ('error' in digest) {
      if (digest.denied) {
        unreadable.push(pid);
        proc.status = 'unreadable';
      }
      continue;
    }
    proc.sha256 = digest.sha256;
    const bundle = bundleMember(opts.dataDir, exe);
    if (!bundle) continue;
    let listed = sums.get(bundle.hash);
    if (listed === undefined) {
      listed = readSums(join(opts.root, opts.dataDir, 'data', bundle.hash, SUMS_PATH));
      sums.set(bundle.hash, listed);
    }
    if (typeof listed === 'string') {
      proc.status = 'unverified';
      if (once('sums')) result.notes.push({ location: [exe], message: `${exe} not checked: ${listed}` });
      continue;
    }
    const want = listed.get(bundle.member);
    if (want === undefined) {
      proc.status = 'unlisted';
      if (once('unlisted')) {
        result.findings.push(
          ruleFinding(
            processRule('K3SG-PROCESS-EXE-UNLISTED'),
            `${comm} (pid ${pid}) runs ${exe}, which the bundle ${bundle.hash} does not list in its ${SUMS_PATH}: it was put there after K3s extracted the bundle.`,
            [exe],
          ),
        );
      }
    } else if (want !== digest.sha256) {
      proc.status = 'modified';
      if (once('modified')) {
        result.findings.push(
          ruleFinding(
            processRule('K3SG-PROCESS-EXE-MODIFIED'),
            `${comm} (pid ${pid}) runs ${exe} with sha256 ${digest.sha256}, but the bundle's ${SUMS_PATH} lists ${want}.`,
            [exe],
          ),
        );
      }
    } else {
      proc.status = 'verified';
    }
  }
  if (unreadable.length > 0) {
    result.notes.push({
      location: [opts.proc],
      message: `${unreadable.length} process(es) not checked: /proc/<pid>/exe not readable by this agent (pids ${unreadable.join(', ')}); it needs CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH`,
    });
  }
  return result;
}

/** The executable's path as the node sees it: a node mounted elsewhere has its root stripped. */
function nodePath(root: string, path: string): string {
  const r = root.replace(/\/+$/, '');
  return r !== '' && path.startsWith(`${r}/`) ? path.slice(r.length) : path;
}

/** `<dataDir>/data/<hash>/bin/<member>`: the bundle and the member's name in its sums. */
function bundleMember(dataDir: string, exe: string): { hash: string; member: string } | undefined {
  const prefix = `${posix.normalize(dataDir).replace(/\/+$/, '')}/data/`;
  if (!exe.startsWith(prefix)) return undefined;
  const m = /^([^/]+)\/bin\/(.+)$/.exec(exe.slice(prefix.length));
  return m ? { hash: m[1] as string, member: m[2] as string } : undefined;
}

function readSums(path: string): Map<string, string> | string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return `its bundle's sums cannot be read (${errnoOf(e)})`;
  }
  return parseSha256sums(text).entries;
}

function hashExe(
  path: string,
  cache: Map<string, string> | undefined,
): { sha256: string } | { error: string; denied: boolean } {
  try {
    const st = statSync(path);
    const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
    const known = cache?.get(key);
    if (known) return { sha256: known };
    const { sha256 } = sha256File(path);
    cache?.set(key, sha256);
    return { sha256 };
  } catch (e) {
    const cause = (e as { cause?: unknown }).cause ?? e;
    const code = errnoOf(cause);
    return { error: code, denied: code === 'EACCES' || code === 'EPERM' };
  }
}
