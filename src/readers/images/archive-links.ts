// Links among an image archive's own members (not a layer's). containerd reads an archive
// without unpacking it, but whatever unpacks it first (`tar -x` before an import, a tool that
// unpacks into a temporary directory) follows its links: a symlink out of the archive, a hard
// link to a file outside it, or a member written through a symlink member then reads or
// writes outside the directory it is unpacked into. No image tool writes such members, so each is a finding, whether or not a
// manifest refers to it (a reference that goes through one is refused when it is resolved:
// lookupMember in source.ts).
import { ancestors, escapeReason, normalizeMemberPath, quoteMemberName } from '../../io/member-paths.ts';
import { resolveRooted } from '../../io/rooted-path.ts';
import type { TarEntryType } from '../../io/tar.ts';
import type { ImageRuleId } from '../../model/rules/image.ts';

export interface ArchiveLinkProblem {
  id: Extract<ImageRuleId, 'K3SG-IMAGE-ARCHIVE-LINK' | 'K3SG-IMAGE-ARCHIVE-THROUGH-LINK'>;
  message: string;
  /** The member's clean path. */
  path: string;
}

/** Fed every member in archive order, the order an unpacker creates them in. */
export class ArchiveLinkCheck {
  readonly problems: ArchiveLinkProblem[] = [];
  /** Files unpacking would have created so far (and sound hard links to them), by clean path. */
  private readonly files = new Set<string>();
  /** Symlink members by clean path -> target as stored. */
  private readonly symlinks = new Map<string, string>();

  member(path: string, type: TarEntryType, linkname: string): void {
    for (const a of ancestors(path)) {
      const target = this.symlinks.get(a);
      if (target === undefined) continue;
      this.problems.push({
        id: 'K3SG-IMAGE-ARCHIVE-THROUGH-LINK',
        message: `Archive member ${path} lies under the symbolic link ${a} -> ${quoteMemberName(target)}: unpacking the archive writes it wherever the link points.`,
        path,
      });
      break;
    }
    if (type === 'file' || (type === 'hardlink' && this.hardLinkSound(path, linkname))) this.files.add(path);
    if (type === 'symlink') this.symlinks.set(path, linkname);
  }

  /** Symlinks are resolved once every member is known: a later link can redirect an earlier one. */
  finish(): ArchiveLinkProblem[] {
    const lookup = (at: string) => {
      const target = this.symlinks.get(at);
      return target === undefined ? { kind: 'dir' as const } : { kind: 'symlink' as const, target };
    };
    for (const [path, target] of this.symlinks) {
      const where = resolveRooted(path, { lookup, leaving: 'escape' });
      if (where.kind !== 'escape') continue;
      const via = where.at && where.at !== path ? ` (through ${where.at})` : '';
      this.problems.push({
        id: 'K3SG-IMAGE-ARCHIVE-LINK',
        message: `Archive member ${path} is a symbolic link to ${quoteMemberName(target)}, which ${escapeReason(where, 'archive')}${via}.`,
        path,
      });
    }
    return this.problems;
  }

  /** A hard link may only name a file the archive created before it; otherwise a problem. */
  private hardLinkSound(path: string, linkname: string): boolean {
    const target = normalizeMemberPath(linkname);
    if (target.ok && this.files.has(target.path)) return true;
    const why = target.ok ? 'which is not an earlier file of the archive' : `which ${target.reason}`;
    this.problems.push({
      id: 'K3SG-IMAGE-ARCHIVE-LINK',
      message: `Archive member ${path} is a hard link to ${quoteMemberName(linkname)}, ${why}.`,
      path,
    });
    return false;
  }
}
