// What reading a K3s bundle yields, whether it is embedded in a k3s binary (a zstd-compressed
// tar) or already extracted to `/var/lib/rancher/k3s/data/<hash>/`: one shape for both, so
// the inventory and the tampering checks do not care where the bundle came from.

import type { ByteSource } from '../../io/bytesource.ts';
import type { Finding, Location, Sha256 } from '../../model/inventory.ts';

interface MemberBase {
  /** Clean path relative to the bundle root: `bin/k3s`, `bin/aux/iptables`, `etc`. */
  path: string;
  /** Permission bits (`mode & 0o7777`). */
  mode: number;
}

/** A regular file. */
export interface FileMember extends MemberBase {
  type: 'file';
  size: number;
  sha256: Sha256;
  /** Starts with `\x7fELF`. */
  elf: boolean;
  /** Why an ELF member was not handed to `onElf` (e.g. over the size limit). */
  notInspected?: string;
}

/** A tar hard link (never seen in a data dir, where it is just another file). */
export interface HardlinkMember extends MemberBase {
  type: 'hardlink';
  size: number;
  /** The content's hash: that of the member it links to. */
  sha256: Sha256;
  /** The member it links to (clean path). */
  linkTarget: string;
}

export interface SymlinkMember extends MemberBase {
  type: 'symlink';
  /** The target exactly as stored (what `readlink` returns). */
  linkTarget: string;
}

export interface DirMember extends MemberBase {
  type: 'dir';
}

/** Device nodes, FIFOs, sockets: nothing a K3s bundle holds. */
export interface SpecialMember extends MemberBase {
  type: 'special';
  what: 'char' | 'block' | 'fifo' | 'socket';
}

export type BundleMember = FileMember | HardlinkMember | SymlinkMember | DirMember | SpecialMember;

/**
 * Called for every ELF regular member, in member order, with its bytes (from memory for an
 * embedded bundle, from the file for a data dir). The data is valid only until the returned
 * promise settles; reading stops until it does, so memory stays bounded.
 */
export type OnElf = (member: FileMember, data: ByteSource) => void | Promise<void>;

export interface BundleScan {
  source: 'embedded' | 'datadir';
  /** Where the bundle is: `[outer file..., 'bundle:<hash>']` or the data dir's location. */
  location: Location;
  /**
   * The hash in the bundle's name (`<hash>.tar.zst`, or the data dir's `<hash>` name).
   * Empty for a data dir whose name is not 64 hex digits (a copied dir, say).
   */
  declaredHash: Sha256;
  /** sha256 of the embedded frame(s) as found (embedded bundles only). */
  sha256?: Sha256;
  /** Offset and length of the embedded frame(s) in the outer file. */
  offset?: number;
  compressedSize?: number;
  /** Bytes of tar decompressed (embedded), or the total size of the regular files (data dir). */
  uncompressedSize: number;
  /** Every member, in archive (or sorted directory walk) order; a repeated tar path keeps its last entry. */
  members: BundleMember[];
  /** Every symlink member: bundle-root-relative name and the target as stored. */
  links: Array<{ name: string; target: string }>;
  findings: Finding[];
}

export interface BundleReadOptions {
  /** How the user named the input, for messages (default: the path). */
  displayName?: string;
  /** Location of the bundle itself, the base of every finding's location. */
  location?: Location;
  onElf?: OnElf;
  /** ELF members larger than this are hashed but not handed to onElf (default 1 GiB). */
  maxElfMemberBytes?: number;
  /** At most this many members (default 100,000): TAR_LIMIT past it. */
  maxMembers?: number;
  progress?: (text: string) => void;
}
