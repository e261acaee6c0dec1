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

/** Every limit by name (what each means, and its unit: LIMIT_TEXT). */
export interface Limits {
  readonly bundleBytes: number;
  readonly zstdWindowLog: number;
  readonly elfMemberBytes: number;
  readonly bundleMembers: number;
  readonly bundleManifestBytes: number;
  readonly tarLongName: number;
  readonly memberName: number;
  readonly tarPaxHeader: number;
  readonly layerBytes: number;
  readonly imageLayersBytes: number;
  readonly imageArchiveMembers: number;
  readonly imageElfBytes: number;
  readonly imageEntries: number;
  readonly imageJsonBlob: number;
  readonly imageJsonTotal: number;
  readonly imageKeptFile: number;
  readonly imageKeptTotal: number;
  readonly auditFileBytes: number;
  readonly auditScriptNesting: number;
  readonly yamlAliasNodes: number;
  readonly zipEntryBytes: number;
  readonly zipTotalBytes: number;
  readonly zipEntries: number;
  readonly osvRecordFile: number;
  readonly osvJsonFile: number;
  readonly downloadBytes: number;
  readonly osvRanges: number;
  readonly osvEvents: number;
  readonly jsonDepth: number;
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

export type LimitUnit = 'bytes' | 'count' | 'levels' | 'log2';

/** What each limit bounds, for docs/limits.md's table (`npm run docs:limits`) and readers of this file. */
export const LIMIT_TEXT: Readonly<Record<Exclude<keyof Limits, 'optionFile'>, { what: string; unit: LimitUnit }>> = {
  bundleBytes: { unit: 'bytes', what: "Decompressed bytes of a K3s binary's embedded bundle (`--max-bundle-size`)." },
  zstdWindowLog: {
    unit: 'log2',
    what: 'zstd frames whose window is over 2^this are refused before the window is allocated.',
  },
  elfMemberBytes: {
    unit: 'bytes',
    what: 'ELF members of a bundle or data dir larger than this are hashed, not inspected.',
  },
  bundleMembers: { unit: 'count', what: 'Members of a bundle or data dir.' },
  bundleManifestBytes: {
    unit: 'bytes',
    what: '`bin/.sha256sums` and `bin/.links`: larger ones are not parsed (a finding).',
  },
  tarLongName: { unit: 'bytes', what: 'GNU long name / long link name record of a tar member.' },
  memberName: {
    unit: 'bytes',
    what: "A tar member's name or link target, in bytes (Linux's PATH_MAX). Longer strings would also defeat V8's string hashing (past 16,383 characters every such key hashes alike), making each Map and Set lookup of member paths linear.",
  },
  tarPaxHeader: { unit: 'bytes', what: 'pax extended header record of a tar member.' },
  layerBytes: { unit: 'bytes', what: 'Decompressed bytes of one image layer (`--max-layer-size`).' },
  imageLayersBytes: { unit: 'bytes', what: 'Decompressed bytes of all layers of one image together.' },
  imageArchiveMembers: {
    unit: 'count',
    what: 'Members of an image archive (the outer tar), or files of an OCI layout directory.',
  },
  imageElfBytes: {
    unit: 'bytes',
    what: 'An ELF file of an image layer held whole for inspection; larger ones are not inspected.',
  },
  imageEntries: { unit: 'count', what: "Members of one layer, and entries of one image's file view." },
  imageJsonBlob: { unit: 'bytes', what: 'One JSON blob of an image (index, manifest, config).' },
  imageJsonTotal: { unit: 'bytes', what: 'All JSON blobs of an archive together.' },
  imageKeptFile: { unit: 'bytes', what: 'One file of an image kept in memory (a package database).' },
  imageKeptTotal: { unit: 'bytes', what: 'All files of an image kept in memory together.' },
  auditFileBytes: { unit: 'bytes', what: 'Text files `audit iac` and `audit node` read (`--max-file-size`).' },
  auditScriptNesting: {
    unit: 'levels',
    what: "Scripts inside scripts `audit iac` follows (`$(...)`, backticks, `sh -c '...'`, a heredoc a shell reads).",
  },
  yamlAliasNodes: {
    unit: 'count',
    what: 'YAML nodes `audit iac` reaches through aliases in one file (an alias bomb expands past it).',
  },
  zipEntryBytes: { unit: 'bytes', what: 'Uncompressed bytes of one entry of an OSV zip export.' },
  zipTotalBytes: { unit: 'bytes', what: 'Uncompressed bytes of all entries of an OSV zip export.' },
  zipEntries: { unit: 'count', what: "Entries in an OSV zip export's central directory." },
  osvRecordFile: { unit: 'bytes', what: 'One OSV record file in a folder given to `db import`.' },
  osvJsonFile: { unit: 'bytes', what: 'One JSON file (a record or an array of records) given to `db import`.' },
  downloadBytes: { unit: 'bytes', what: 'A `db update` download.' },
  osvRanges: {
    unit: 'count',
    what: 'Ranges of one OSV record (every `affected[].ranges` and Go `custom_ranges` together).',
  },
  osvEvents: { unit: 'count', what: "Events of one OSV record's ranges together." },
  jsonDepth: {
    unit: 'levels',
    what: 'Nesting of arrays and objects in a JSON document read from input (checked before parsing).',
  },
};

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

function shown(value: number, unit: LimitUnit): string {
  if (unit === 'bytes') return formatLimit(value);
  if (unit === 'log2') return `2^${value} bytes`;
  return value.toLocaleString('en-US');
}

/** The reference table of docs/limits.md: every limit, its default and what it bounds. */
export function limitsMarkdownTable(): string {
  const rows = (Object.keys(LIMIT_TEXT) as (keyof typeof LIMIT_TEXT)[]).map(
    (k) => `| \`${k}\` | ${shown(LIMITS[k], LIMIT_TEXT[k].unit)} | ${LIMIT_TEXT[k].what.replace(/\|/g, '\\|')} |`,
  );
  const files = (Object.keys(LIMITS.optionFile) as SizedOptionFileKind[]).map(
    (k) =>
      `| \`optionFile.${k}\` | ${formatLimit(LIMITS.optionFile[k])} | a file named by an option, of kind ${k} (regular files only) |`,
  );
  return ['| limit | default | what it bounds |', '| --- | --- | --- |', ...rows, ...files].join('\n');
}
