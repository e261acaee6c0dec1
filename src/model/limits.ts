// Every size and count limit k3sguard enforces on hostile input, with its default, written once.
// Readers take their limits from here (a caller may lower or raise one through its options);
// the CLI's option defaults and their help text are derived from the same numbers, and
// docs/limits.md lists them all.

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/** Files named by options (`--key`, `--policy`, ...): one kind each, each with its own size limit. */
export type SizedOptionFileKind =
  | 'policy'
  | 'key'
  | 'lock'
  | 'vex'
  | 'images-list'
  | 'sums'
  | 'bundle'
  | 'trusted-root';

/** `--db` names a file too, but a vulnerability database is large by nature: no size limit. */
export type OptionFileKind = SizedOptionFileKind | 'db';

export interface Limits {
  /** Decompressed bytes of a K3s binary's embedded bundle (`--max-bundle-size`). */
  readonly bundleBytes: number;
  /** zstd frames whose window is over 2^this are refused before the window is allocated. */
  readonly zstdWindowLog: number;
  /** ELF members of a bundle or data dir larger than this are hashed, not inspected. */
  readonly elfMemberBytes: number;
  /** Members of a bundle or data dir. */
  readonly bundleMembers: number;
  /** `bin/.sha256sums` and `bin/.links`: larger ones are not parsed (a finding). */
  readonly bundleManifestBytes: number;
  /** GNU long name / long link name record of a tar member. */
  readonly tarLongName: number;
  /**
   * A tar member's name or link target, in bytes (Linux's PATH_MAX). Longer strings would also
   * defeat V8's string hashing (past 16,383 characters every such key hashes alike), making each
   * Map and Set lookup of member paths linear.
   */
  readonly memberName: number;
  /** pax extended header record of a tar member. */
  readonly tarPaxHeader: number;
  /** Decompressed bytes of one image layer (`--max-layer-size`). */
  readonly layerBytes: number;
  /** Decompressed bytes of all layers of one image together. */
  readonly imageLayersBytes: number;
  /** Members of an image archive (the outer tar), or files of an OCI layout directory. */
  readonly imageArchiveMembers: number;
  /** An ELF file of an image layer held whole for inspection; larger ones are not inspected. */
  readonly imageElfBytes: number;
  /** Members of one layer, and entries of one image's file view. */
  readonly imageEntries: number;
  /** One JSON blob of an image (index, manifest, config). */
  readonly imageJsonBlob: number;
  /** All JSON blobs of an archive together. */
  readonly imageJsonTotal: number;
  /** One file of an image kept in memory (a package database). */
  readonly imageKeptFile: number;
  /** All files of an image kept in memory together. */
  readonly imageKeptTotal: number;
  /** Text files `audit iac` and `audit node` read (`--max-file-size`). */
  readonly auditFileBytes: number;
  /** Scripts inside scripts `audit iac` follows (`$(...)`, backticks, `sh -c '...'`, a heredoc a shell reads). */
  readonly auditScriptNesting: number;
  /** YAML nodes `audit iac` reaches through aliases in one file (an alias bomb expands past it). */
  readonly yamlAliasNodes: number;
  /** Uncompressed bytes of one entry of an OSV zip export. */
  readonly zipEntryBytes: number;
  /** Uncompressed bytes of all entries of an OSV zip export. */
  readonly zipTotalBytes: number;
  /** Entries in an OSV zip export's central directory. */
  readonly zipEntries: number;
  /** One OSV record file in a folder given to `db import`. */
  readonly osvRecordFile: number;
  /** One JSON file (a record or an array of records) given to `db import`. */
  readonly osvJsonFile: number;
  /** A `db update` download. */
  readonly downloadBytes: number;
  /** Ranges of one OSV record (every `affected[].ranges` and Go `custom_ranges` together). */
  readonly osvRanges: number;
  /** Events of one OSV record's ranges together. */
  readonly osvEvents: number;
  /** Nesting of arrays and objects in a JSON document read from input (checked before parsing). */
  readonly jsonDepth: number;
  /** Files named by options, per kind. */
  readonly optionFile: Readonly<Record<SizedOptionFileKind, number>>;
}

export const LIMITS: Limits = Object.freeze({
  bundleBytes: 2 * GiB,
  zstdWindowLog: 27,
  elfMemberBytes: 1 * GiB,
  bundleMembers: 100_000,
  bundleManifestBytes: 1 * MiB,
  tarLongName: 64 * KiB,
  tarPaxHeader: 1 * MiB,
  memberName: 4096,
  layerBytes: 16 * GiB,
  imageLayersBytes: 64 * GiB,
  imageArchiveMembers: 100_000,
  imageElfBytes: 256 * MiB,
  imageEntries: 2_000_000,
  imageJsonBlob: 4 * MiB,
  imageJsonTotal: 64 * MiB,
  imageKeptFile: 16 * MiB,
  imageKeptTotal: 256 * MiB,
  auditFileBytes: 4 * MiB,
  auditScriptNesting: 64,
  yamlAliasNodes: 1_000_000,
  zipEntryBytes: 64 * MiB,
  zipTotalBytes: 4 * GiB,
  zipEntries: 2_000_000,
  osvRecordFile: 64 * MiB,
  osvJsonFile: 256 * MiB,
  downloadBytes: 1 * GiB,
  // Real records have a few ranges of a few events each; the cap, far above them, bounds what
  // one record costs every scan that looks its packages up.
  osvRanges: 10_000,
  osvEvents: 100_000,
  jsonDepth: 128,
  optionFile: Object.freeze({
    policy: 4 * MiB,
    key: 1 * MiB,
    lock: 64 * MiB,
    vex: 64 * MiB,
    'images-list': 1 * MiB,
    sums: 16 * MiB,
    bundle: 16 * MiB,
    'trusted-root': 16 * MiB,
  }),
});

/** `2147483648` -> `2GiB`, `1048576` -> `1MiB`: exact sizes only, for help text and messages. */
export function formatLimit(bytes: number): string {
  for (const [unit, size] of [
    ['GiB', GiB],
    ['MiB', MiB],
    ['KiB', KiB],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes} bytes`;
}
