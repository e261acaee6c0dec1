// A folder of binaries: every regular file inspected, extracted K3s data dirs checked as
// bundles, symlinks recorded but never followed (so no loop or escape can make us read
// outside the folder), and a symlink that loops (a -> b -> a) reported as unreadable input.
// A file or folder inside it that cannot be read (no permission, an I/O error) is that
// entry's problem: a note says so and the walk goes on, as `ls -R` or `find` would.
import { lstatSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fsError } from '../io/fs-error.ts';
import { isK3sDataDir } from '../io/target.ts';
import { InputError } from '../model/errors.ts';
import type { Component, DirectoryComponent, Location } from '../model/inventory.ts';
import { inspectDataDir } from './datadir.ts';
import { type InspectContext, inspectFile } from './file.ts';

const MAX_DEPTH = 64;

/**
 * A symlink's target as stored. Symlinks are never followed, so a link back up the tree
 * (`/usr/bin/X11 -> .`) is just listed; one that cannot resolve at all because it loops
 * (`a -> b -> a`) is reported as unreadable input, as anything that tried to use it would fail.
 */
function checkSymlink(abs: string, display: string): string {
  try {
    realpathSync(abs);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOOP') {
      throw new InputError('SYMLINK_LOOP', display, 'symlink loop: the link resolves back to itself');
    }
    // Dangling: recorded as it is.
  }
  return readlinkSync(abs);
}

/** A failed file-system call on an entry of the walk (InputErrors, such as a loop, stay errors). */
function isFsFailure(e: unknown): e is NodeJS.ErrnoException {
  return !(e instanceof InputError) && typeof (e as NodeJS.ErrnoException).code === 'string';
}

function listNames(abs: string): string[] {
  return readdirSync(abs).sort();
}

async function walk(
  abs: string,
  rel: string,
  names: string[],
  rootLocation: Location,
  ctx: InspectContext,
  depth: number,
): Promise<Component[]> {
  if (depth > MAX_DEPTH) throw new InputError('UNREADABLE', abs, `directory nesting deeper than ${MAX_DEPTH} levels`);
  const out: Component[] = [];
  for (const name of names) {
    const childAbs = join(abs, name);
    const childRel = rel ? `${rel}/${name}` : name;
    const location = [...rootLocation, childRel];
    try {
      const child = await walkEntry(childAbs, childRel, name, location, rootLocation, ctx, depth);
      if (child) out.push(child);
    } catch (e) {
      if (!isFsFailure(e)) throw e;
      ctx.notes.push({ location, message: `not inspected: ${fsError(e, childRel).message}` });
    }
  }
  return out;
}

async function walkEntry(
  abs: string,
  rel: string,
  name: string,
  location: Location,
  rootLocation: Location,
  ctx: InspectContext,
  depth: number,
): Promise<Component | undefined> {
  const st = lstatSync(abs);
  if (st.isFile()) return inspectFile(abs, rel, location, ctx, st.mode & 0o7777);
  if (st.isDirectory()) {
    if (isK3sDataDir(abs)) return inspectDataDir(abs, rel, location, ctx);
    const children = await walk(abs, rel, listNames(abs), rootLocation, ctx, depth + 1);
    return { type: 'directory', ref: location.join('!'), name, path: rel, location, children };
  }
  if (st.isSymbolicLink()) {
    const target = checkSymlink(abs, abs);
    return { type: 'symlink', ref: location.join('!'), name, path: rel, location, target };
  }
  ctx.notes.push({ location, message: 'skipped: not a regular file (device, fifo or socket)' });
  return undefined;
}

export async function walkDirectory(dir: string, ctx: InspectContext): Promise<DirectoryComponent> {
  const name = basename(resolve(dir));
  const location = [name];
  let names: string[];
  try {
    names = listNames(dir);
  } catch (e) {
    // The folder named as the target: an error. A folder inside it: a note (walk).
    throw fsError(e, dir, { doing: 'cannot list directory' });
  }
  const children = await walk(dir, '', names, location, ctx, 0);
  // The folder as the user named it (`/usr/bin` stays `/usr/bin`, not `../../../usr/bin` from
  // the working directory), as a file or data dir target is; only a trailing slash is dropped.
  const path = dir.replace(/(.)\/+$/, '$1');
  return { type: 'directory', ref: name, name, path, location, children };
}
