// A folder of binaries: every regular file inspected, extracted K3s data dirs checked as
// bundles, symlinks recorded but never followed (so no loop or escape can make us read
// outside the folder), and a symlink that loops (a -> b -> a) reported as unreadable input.
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

async function walk(
  abs: string,
  rel: string,
  rootLocation: Location,
  ctx: InspectContext,
  depth: number,
): Promise<Component[]> {
  if (depth > MAX_DEPTH) throw new InputError('UNREADABLE', abs, `directory nesting deeper than ${MAX_DEPTH} levels`);
  let names: string[];
  try {
    names = readdirSync(abs).sort();
  } catch (e) {
    throw fsError(e, abs, { doing: 'cannot list directory' });
  }
  const out: Component[] = [];
  for (const name of names) {
    const childAbs = join(abs, name);
    const childRel = rel ? `${rel}/${name}` : name;
    const location = [...rootLocation, childRel];
    const st = lstatSync(childAbs);
    if (st.isFile()) {
      out.push(await inspectFile(childAbs, childRel, location, ctx, st.mode & 0o7777));
    } else if (st.isDirectory()) {
      if (isK3sDataDir(childAbs)) out.push(await inspectDataDir(childAbs, childRel, location, ctx));
      else {
        const children = await walk(childAbs, childRel, rootLocation, ctx, depth + 1);
        out.push({ type: 'directory', ref: location.join('!'), name, path: childRel, location, children });
      }
    } else if (st.isSymbolicLink()) {
      const target = checkSymlink(childAbs, childAbs);
      out.push({ type: 'symlink', ref: location.join('!'), name, path: childRel, location, target });
    } else {
      ctx.notes.push({ location, message: 'skipped: not a regular file (device, fifo or socket)' });
    }
  }
  return out;
}

export async function walkDirectory(dir: string, ctx: InspectContext): Promise<DirectoryComponent> {
  const name = basename(resolve(dir));
  const location = [name];
  const children = await walk(dir, '', location, ctx, 0);
  // The folder as the user named it (`/usr/bin` stays `/usr/bin`, not `../../../usr/bin` from
  // the working directory), as a file or data dir target is; only a trailing slash is dropped.
  const path = dir.replace(/(.)\/+$/, '$1');
  return { type: 'directory', ref: name, name, path, location, children };
}
