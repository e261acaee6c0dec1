// The final file view of an image as a tree in memory: one entry per path (metadata only, plus
// the bytes of the few files a caller asked for), built by applying layers in order. Paths are
// clean and relative to the image root (`etc/os-release`; the root is ''). Symlinks are
// resolved the way the kernel resolves them inside a chroot: an absolute target starts again
// at the image root and `..` at the root stays at the root, so no path ever leaves the image.
import { resolveRooted } from '../../io/rooted-path.ts';
import type { TarEntryType } from '../../io/tar.ts';

export type ViewEntryType = TarEntryType;

export interface ViewEntry {
  type: ViewEntryType;
  /** Bytes of a regular file (a hard link: of its target); 0 for everything else. */
  size: number;
  mode: number;
  /** Symlink target as stored, or the clean root-relative path a hard link names. */
  linkname?: string;
  /** Index of the layer the entry comes from; -1 for the root and 0.. for the layers. */
  layer: number;
  /** The member's clean path as stored in its layer (differs from the view path under a symlinked parent). */
  member?: string;
  /** What a LayerFileHook made of the file (e.g. its inspection), when it took it. */
  facts?: unknown;
}

export type Resolved = { kind: 'ok'; path: string } | { kind: 'loop'; at: string };

/** A view never fails to say what a path is, and a chroot has no escape. */
type ViewNode = { kind: 'dir' | 'other' | 'missing' } | { kind: 'symlink'; target: string };

export class ViewTree {
  readonly entries = new Map<string, ViewEntry>();
  /** Collected file bytes by clean path. */
  readonly contents = new Map<string, Buffer>();
  private readonly children = new Map<string, Set<string>>();

  constructor() {
    this.entries.set('', { type: 'dir', size: 0, mode: 0o755, layer: -1 });
    this.children.set('', new Set());
  }

  get size(): number {
    return this.entries.size;
  }

  /** Child names of a directory (sorted), or undefined when the path is not a directory. */
  list(path: string): string[] | undefined {
    const names = this.children.get(path);
    return names === undefined ? undefined : [...names].sort();
  }

  /**
   * Resolve a path (components separated by `/`, absolute or not: both start at the root),
   * following symlinks in every component, and in the last one only when `followLast`.
   * Missing components and components under a file pass as empty directories: the path is
   * where a layer's member would go (its parents created), or where nothing is found.
   */
  resolve(path: string, followLast: boolean): Resolved {
    const r = resolveRooted(path, { lookup: (p) => this.node(p), leaving: 'clamp', followLast });
    return r.kind === 'loop' ? r : { kind: 'ok', path: r.path };
  }

  private node(path: string): ViewNode {
    const entry = this.entries.get(path);
    if (entry === undefined) return { kind: 'missing' };
    if (entry.type === 'symlink') return { kind: 'symlink', target: entry.linkname ?? '' };
    return { kind: entry.type === 'dir' ? 'dir' : 'other' };
  }

  /**
   * Make `path` and its ancestors directories (implicit ones get `layer`). False when a
   * non-directory is in the way: a layer cannot put a member under a file.
   */
  ensureDir(path: string, layer: number): boolean {
    if (path === '') return true;
    const existing = this.entries.get(path);
    if (existing) return existing.type === 'dir';
    const slash = path.lastIndexOf('/');
    const parent = slash < 0 ? '' : path.slice(0, slash);
    if (!this.ensureDir(parent, layer)) return false;
    this.insert(path, { type: 'dir', size: 0, mode: 0o755, layer });
    return true;
  }

  /**
   * Put an entry at a clean path whose parent is a directory. A directory over a directory
   * keeps the lower one's contents (it only updates metadata); anything else replaces the
   * lower entry and everything under it.
   */
  set(path: string, entry: ViewEntry, bytes?: Buffer): void {
    const existing = this.entries.get(path);
    if (existing?.type === 'dir' && entry.type === 'dir') {
      this.entries.set(path, entry);
      return;
    }
    // Replaced outright, including what this same layer put under it earlier.
    if (existing) this.remove(path, Number.POSITIVE_INFINITY);
    this.insert(path, entry);
    if (bytes !== undefined) this.contents.set(path, bytes);
  }

  /**
   * Remove a path and what is under it, but only what comes from layers below `layer`: a
   * whiteout hides lower layers, never members of its own layer, whatever their order in the
   * tar. A lower directory that still holds members of `layer` stays (as that layer's).
   * True when the path is gone.
   */
  remove(path: string, layer: number): boolean {
    const entry = this.entries.get(path);
    if (!entry || path === '') return false;
    if (entry.layer >= layer) return false;
    const names = this.children.get(path);
    let kept = false;
    if (names) for (const name of [...names]) if (!this.remove(`${path}/${name}`, layer)) kept = true;
    if (kept) {
      this.entries.set(path, { ...entry, layer });
      return false;
    }
    this.entries.delete(path);
    this.contents.delete(path);
    this.children.delete(path);
    this.children.get(parentOf(path))?.delete(baseOf(path));
    return true;
  }

  /** An opaque directory: hide everything lower layers put in it. */
  clearDir(path: string, layer: number): void {
    const names = this.children.get(path);
    if (names) for (const name of [...names]) this.remove(path === '' ? name : `${path}/${name}`, layer);
  }

  private insert(path: string, entry: ViewEntry): void {
    this.entries.set(path, entry);
    if (entry.type === 'dir') this.children.set(path, new Set());
    this.children.get(parentOf(path))?.add(baseOf(path));
  }
}

export function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

export function baseOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function joinPath(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}
