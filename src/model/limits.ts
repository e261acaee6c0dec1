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
  | 'trusted-root'
  | 'predicate'
  | 'config'
  | 'secret';

/** `--db` names a file too, but a vulnerability database is large by nature: no size limit. */
export type OptionFileKind = SizedOptionFileKind | 'db';

export type LimitUnit = 'bytes' | 'count' | 'levels' | 'log2' | 'seconds';

export interface LimitSpec {
  readonly value: number;
  readonly unit: LimitUnit;
  /** What it bounds, for docs/limits.md's table (`npm run docs`) and for readers of this file. */
  readonly what: string;
}

/** Every limit but the option files': its default, its unit and what it bounds, in one place. */
export const LIMIT_SPECS = Object.freeze({
  bundleBytes: {
    value: 2 * GiB,
    unit: 'bytes',
    what: "Decompressed bytes of a K3s binary's embedded bundle (`--max-bundle-size`).",
  },
  zstdWindowLog: {
    value: 27,
    unit: 'log2',
    what: 'zstd frames whose window is over 2^this are refused before the window is allocated.',
  },
  elfMemberBytes: {
    value: 1 * GiB,
    unit: 'bytes',
    what: 'ELF members of a bundle or data dir larger than this are hashed, not inspected.',
  },
  bundleMembers: { value: 100_000, unit: 'count', what: 'Members of a bundle or data dir.' },
  bundleManifestBytes: {
    value: 1 * MiB,
    unit: 'bytes',
    what: '`bin/.sha256sums` and `bin/.links`: larger ones are not parsed (a finding).',
  },
  tarLongName: { value: 64 * KiB, unit: 'bytes', what: 'GNU long name / long link name record of a tar member.' },
  tarPaxHeader: { value: 1 * MiB, unit: 'bytes', what: 'pax extended header record of a tar member.' },
  memberName: {
    value: 4096,
    unit: 'bytes',
    what: "A tar member's name or link target, in bytes (Linux's PATH_MAX). Longer strings would also defeat V8's string hashing (past 16,383 characters every such key hashes alike), making each Map and Set lookup of member paths linear.",
  },
  layerBytes: { value: 16 * GiB, unit: 'bytes', what: 'Decompressed bytes of one image layer (`--max-layer-size`).' },
  imageLayersBytes: { value: 64 * GiB, unit: 'bytes', what: 'Decompressed bytes of all layers of one image together.' },
  imageArchiveMembers: {
    value: 100_000,
    unit: 'count',
    what: 'Members of an image archive (the outer tar), or files of an OCI layout directory.',
  },
  imageElfBytes: {
    value: 256 * MiB,
    unit: 'bytes',
    what: 'An ELF file of an image layer held whole for inspection; larger ones are not inspected.',
  },
  imageEntries: {
    value: 2_000_000,
    unit: 'count',
    what: "Members of one layer, and entries of one image's file view.",
  },
  imageJsonBlob: { value: 4 * MiB, unit: 'bytes', what: 'One JSON blob of an image (index, manifest, config).' },
  imageJsonTotal: { value: 64 * MiB, unit: 'bytes', what: 'All JSON blobs of an archive together.' },
  imageKeptFile: { value: 16 * MiB, unit: 'bytes', what: 'One file of an image kept in memory (a package database).' },
  imageKeptTotal: { value: 256 * MiB, unit: 'bytes', what: 'All files of an image kept in memory together.' },
  auditFileBytes: {
    value: 4 * MiB,
    unit: 'bytes',
    what: 'Text files `audit iac` and `audit node` read (`--max-file-size`).',
  },
  auditScriptNesting: {
    value: 64,
    unit: 'levels',
    what: "Scripts inside scripts `audit iac` follows (`$(...)`, backticks, `sh -c '...'`, a heredoc a shell reads).",
  },
  yamlAliasNodes: {
    value: 1_000_000,
    unit: 'count',
    what: 'YAML nodes `audit iac` reaches through aliases in one file (an alias bomb expands past it).',
  },
  zipEntryBytes: { value: 64 * MiB, unit: 'bytes', what: 'Uncompressed bytes of one entry of an OSV zip export.' },
  zipTotalBytes: { value: 4 * GiB, unit: 'bytes', what: 'Uncompressed bytes of all entries of an OSV zip export.' },
  zipEntries: { value: 2_000_000, unit: 'count', what: "Entries in an OSV zip export's central directory." },
  osvRecordFile: { value: 64 * MiB, unit: 'bytes', what: 'One OSV record file in a folder given to `db import`.' },
  osvJsonFile: {
    value: 256 * MiB,
    unit: 'bytes',
    what: 'One JSON file (a record or an array of records) given to `db import`.',
  },
  downloadBytes: { value: 1 * GiB, unit: 'bytes', what: 'A `db update` download.' },
  // Real records have a few ranges of a few events each; the cap, far above them, bounds what
  // one record costs every scan that looks its packages up.
  osvRanges: {
    value: 10_000,
    unit: 'count',
    what: 'Ranges of one OSV record (every `affected[].ranges` and Go `custom_ranges` together).',
  },
  osvEvents: { value: 100_000, unit: 'count', what: "Events of one OSV record's ranges together." },
  containerdMessageBytes: {
    value: 16 * MiB,
    unit: 'bytes',
    what: "One message from containerd's API socket (containerd's own client allows as much).",
  },
  containerdItems: {
    value: 100_000,
    unit: 'count',
    what: 'Images, containers or tasks in one list read from containerd.',
  },
  registryManifestBytes: {
    value: 4 * MiB,
    unit: 'bytes',
    what: "A manifest or index fetched from a registry (the distribution spec's own suggested bound).",
  },
  registrySignatureBlobBytes: {
    value: 1 * MiB,
    unit: 'bytes',
    what: 'A cosign signature payload (simplesigning JSON) fetched from a registry.',
  },
  registrySignatureLayers: {
    value: 64,
    unit: 'count',
    what: 'Signature layers of one `.sig` manifest verified; the rest are reported, not verified.',
  },
  registryTokenBytes: {
    value: 1 * MiB,
    unit: 'bytes',
    what: "A registry token service's answer, or a registry's error body.",
  },
  registryRedirects: { value: 5, unit: 'count', what: 'Redirects followed for one registry request.' },
  registryCacheEntryBytes: {
    value: 1 * MiB,
    unit: 'bytes',
    what: 'One entry of the registry cache on disk (larger ones are ignored as corrupt).',
  },
  outboxMessages: {
    value: 10_000,
    unit: 'count',
    what: "Messages waiting in one channel (webhook, server) of the agent's outbox; past it the oldest is dropped and counted (`k3sguard_outbox_dropped_total`).",
  },
  outboxBytes: {
    value: 256 * MiB,
    unit: 'bytes',
    what: "Bytes of the messages waiting in one channel of the agent's outbox; past it the oldest are dropped and counted, the newest is always kept.",
  },
  serverBodyBytes: {
    value: 8 * MiB,
    unit: 'bytes',
    what: 'One request body the fleet server accepts (`POST /api/v1/reports`, `/api/v1/events`); larger ones get 413 before they are read whole.',
  },
  reportComponents: {
    value: 20_000,
    unit: 'count',
    what: "Go modules (with the stdlib of each Go binary) the agent's report lists for the K3s binary and its bundle; past it the list stops and says `truncated`.",
  },
  notificationNodes: {
    value: 1_000,
    unit: 'count',
    what: 'Nodes one notification of the fleet server names (a new advisory on an inventory); past it the count says how many more.',
  },
  serverTokenRequests: {
    value: 600,
    unit: 'count',
    what: "Requests one node token may make to the fleet server per minute (`k3sguard server --rate-limit`), in bursts as large; past it 429 with Retry-After, which the agent's sender waits out.",
  },
  serverLoginNameAttempts: {
    value: 5,
    unit: 'count',
    what: 'Login attempts (`POST /login`) per user name per minute on one server process, in bursts as large; past it 429 with Retry-After, before the password is checked.',
  },
  serverLoginAddressAttempts: {
    value: 30,
    unit: 'count',
    what: "Login attempts per client address per minute on one server process (behind a proxy: the proxy's address), in bursts as large; past it 429.",
  },
  serverFormBytes: {
    value: 16 * KiB,
    unit: 'bytes',
    what: 'One form body (`POST /login`); larger ones get 413.',
  },
  serverSessionSeconds: {
    value: 12 * 60 * 60,
    unit: 'seconds',
    what: 'Life of a login session (the `k3sguard_session` cookie), from login; then the user logs in again.',
  },
  serverQueryRows: {
    value: 10_000,
    unit: 'count',
    what: 'Rows in one page of the query API (`limit`, JSON or CSV); a larger `limit` gets 400. The default page is 100.',
  },
  webhookBodyBytes: {
    value: 4 * MiB,
    unit: 'bytes',
    what: "One AdmissionReview the webhook accepts (`POST /validate`); above the API server's own request limit, so a real review always fits. Larger ones get 400 before they are read whole.",
  },
  jsonDepth: {
    value: 128,
    unit: 'levels',
    what: 'Nesting of arrays and objects in a JSON document read from input (checked before parsing).',
  },
} as const satisfies Record<string, LimitSpec>);

export type LimitName = keyof typeof LIMIT_SPECS;

/** Every limit by name, as numbers (LIMIT_SPECS says what each means). */
export type Limits = { readonly [K in LimitName]: number } & {
  /** Files named by options, per kind. */
  readonly optionFile: Readonly<Record<SizedOptionFileKind, number>>;
};

export const LIMITS: Limits = Object.freeze({
  ...(Object.fromEntries(Object.entries(LIMIT_SPECS).map(([k, spec]) => [k, spec.value])) as {
    [K in LimitName]: number;
  }),
  optionFile: Object.freeze({
    policy: 4 * MiB,
    key: 1 * MiB,
    lock: 64 * MiB,
    vex: 64 * MiB,
    'images-list': 1 * MiB,
    sums: 16 * MiB,
    bundle: 16 * MiB,
    'trusted-root': 16 * MiB,
    predicate: 16 * MiB,
    config: 1 * MiB,
    secret: 64 * 1024,
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

function shown(value: number, unit: LimitUnit): string {
  if (unit === 'bytes') return formatLimit(value);
  if (unit === 'log2') return `2^${value} bytes`;
  if (unit === 'seconds') return value % 3600 === 0 ? `${value / 3600} h` : `${value.toLocaleString('en-US')} s`;
  return value.toLocaleString('en-US');
}

/** The reference table of docs/limits.md: every limit, its default and what it bounds. */
export function limitsMarkdownTable(): string {
  const rows = (Object.keys(LIMIT_SPECS) as LimitName[]).map((k) => {
    const spec: LimitSpec = LIMIT_SPECS[k];
    return `| \`${k}\` | ${shown(spec.value, spec.unit)} | ${spec.what.replace(/\|/g, '\\|')} |`;
  });
  const files = (Object.keys(LIMITS.optionFile) as SizedOptionFileKind[]).map(
    (k) =>
      `| \`optionFile.${k}\` | ${formatLimit(LIMITS.optionFile[k])} | a file named by an option, of kind ${k} (regular files only) |`,
  );
  return ['| limit | default | what it bounds |', '| --- | --- | --- |', ...rows, ...files].join('\n');
}
