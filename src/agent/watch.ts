// File events: the places where a node changes between two interval checks (the binary
// swapped by an upgrade, the data dir re-extracted or edited, manifests and airgap tarballs
// dropped in, the registries and K3s config edited) are watched with fs.watch (inotify), so a
// change is checked within seconds. Events come in bursts (an editor's save, a tar
// extraction), so they are debounced into one trigger.
//
// Directories are watched rather than files: replacing a file (rename over it, as install.sh
// and editors do) leaves a watch on the old file's inode seeing nothing more. A directory that
// does not exist yet, or a data/current that now points elsewhere, is picked up by rearm(),
// called after every check.
import { type FSWatcher, readlinkSync, statSync, watch } from 'node:fs';
import { join, posix } from 'node:path';

export interface WatchTarget {
  /** Host path of a directory. */
  dir: string;
  /** Only these entries of it count (absent: any). */
  names?: readonly string[];
  /** Also its subdirectories (a bundle's bin/aux, manifests in folders). */
  recursive?: boolean;
}

/** What to watch on the node at `root` with K3s's data dir `dataDir` (a node path). */
export function nodeWatchTargets(root: string, dataDir: string): WatchTarget[] {
  const at = (p: string) => join(root, p);
  const targets: WatchTarget[] = [
    { dir: at('/usr/local/bin'), names: ['k3s'] },
    { dir: at(posix.join(dataDir, 'data')) },
    { dir: at(posix.join(dataDir, 'server/manifests')), recursive: true },
    { dir: at(posix.join(dataDir, 'server/static/charts')) },
    { dir: at(posix.join(dataDir, 'agent/images')) },
    { dir: at('/etc/rancher/k3s'), names: ['registries.yaml', 'config.yaml', 'config.yaml.d'] },
    { dir: at('/etc/rancher/k3s/config.yaml.d') },
    {
      dir: at('/etc/systemd/system'),
      names: ['k3s.service', 'k3s-agent.service', 'k3s.service.d', 'k3s-agent.service.d'],
    },
  ];
  const current = currentBundle(root, dataDir);
  if (current) targets.push({ dir: join(current, 'bin'), recursive: true });
  return targets;
}

/** The host path data/current points at, when it is a link into the data dir. */
export function currentBundle(root: string, dataDir: string): string | undefined {
  const link = posix.join(dataDir, 'data/current');
  try {
    const target = readlinkSync(join(root, link));
    return target.startsWith('/') ? join(root, target) : join(root, posix.dirname(link), target);
  } catch {
    return undefined;
  }
}

export class NodeWatcher {
  private readonly watchers = new Map<string, FSWatcher>();
  private timer: NodeJS.Timeout | undefined;
  private changed = new Set<string>();
  private closed = false;
  private readonly targets: () => WatchTarget[];
  private readonly debounceMs: number;
  private readonly onChange: (paths: string[]) => void;

  /** `onChange` gets the paths that changed, once per quiet period of `debounceMs`. */
  constructor(targets: () => WatchTarget[], debounceMs: number, onChange: (paths: string[]) => void) {
    this.targets = targets;
    this.debounceMs = debounceMs;
    this.onChange = onChange;
  }

  /** Watch every target that exists now; stop watching those gone or no longer wanted. */
  rearm(): void {
    if (this.closed) return;
    const wanted = new Map(this.targets().map((t) => [t.dir, t]));
    for (const [dir, w] of this.watchers) {
      if (!wanted.has(dir) || !isDir(dir)) {
        w.close();
        this.watchers.delete(dir);
      }
    }
    for (const [dir, target] of wanted) {
      if (this.watchers.has(dir) || !isDir(dir)) continue;
      try {
        const w = watch(dir, { recursive: target.recursive ?? false, persistent: false }, (_event, name) => {
          const entry = name === null ? undefined : String(name);
          const top = entry?.split('/')[0];
          if (target.names && (top === undefined || !target.names.includes(top))) return;
          this.note(entry ? join(dir, entry) : dir);
        });
        // The directory went away (or inotify gave up on it): forget it; rearm() retries.
        w.on('error', () => {
          w.close();
          if (this.watchers.get(dir) === w) this.watchers.delete(dir);
          this.note(dir);
        });
        this.watchers.set(dir, w);
      } catch {
        // Vanished between the check and the watch, or out of inotify watches: the interval
        // check still covers it.
      }
    }
  }

  /** The directories watched now. */
  watched(): string[] {
    return [...this.watchers.keys()].sort();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }

  private note(path: string): void {
    if (this.closed) return;
    this.changed.add(path);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      const paths = [...this.changed].sort();
      this.changed = new Set();
      this.onChange(paths);
    }, this.debounceMs);
  }
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** For messages: the node path of a host path under root. */
export function shownPath(root: string, path: string): string {
  const r = root.replace(/\/+$/, '');
  return r !== '' && path.startsWith(`${r}/`) ? path.slice(r.length) : path === r ? '/' : path;
}
