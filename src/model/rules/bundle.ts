// The rules of a K3s data bundle: the `<sha256>.tar.zst` a k3s binary embeds, and the copy K3s
// extracts to data/<sha256> and runs containerd, runc, the CNI plugins and kubectl from. The
// checks are in src/readers/bundle/ (embedded) and src/readers/datadir.ts (extracted); each
// finding's message also says what to do for where that bundle lives.
import { type RuleText, ruleTable } from './rule.ts';

const BOTH = ['k3s binary (embedded bundle)', 'extracted data dir (data/<sha256>)'];
const EMBEDDED = ['k3s binary (embedded bundle)'];
const EXTRACTED = ['extracted data dir (data/<sha256>)'];

const REPLACE =
  'In a k3s binary: do not run it; replace it with the official release binary, checked against the ' +
  "release's sha256sum file (`k3sguard verify --release`). In an extracted data dir: stop K3s, delete the " +
  'directory, start K3s again from a verified binary so it extracts a fresh copy, and treat the host as ' +
  'possibly compromised.';
const REPLACE_BINARY =
  "Do not run the binary: replace it with the official release binary, checked against the release's " +
  'sha256sum file (`k3sguard verify --release`).';

const texts = {
  'K3SG-BUNDLE-HASH': {
    severity: 'critical',
    title: 'Embedded bundle does not match its name',
    explanation:
      'A k3s binary names its embedded bundle by the sha256 of the bundle (`<sha256>.tar.zst`), and K3s ' +
      'extracts it to `data/<sha256>` and runs it from there. Bytes that do not hash to that name were ' +
      'replaced or changed after the build: the containerd, runc and CNI plugins K3s runs as root are then ' +
      'not the released ones.',
    fix: REPLACE_BINARY,
    appliesTo: EMBEDDED,
  },
  'K3SG-BUNDLE-FRAME-MISSING': {
    severity: 'high',
    title: 'Embedded bundle named but not found',
    explanation:
      'The binary names a `<sha256>.tar.zst` bundle but holds no readable zstd frame for it: the bundle ' +
      'was cut out or damaged. Nothing of what K3s would run from it can be checked, and a real release ' +
      'binary never looks like this.',
    fix: REPLACE_BINARY,
    appliesTo: EMBEDDED,
  },
  'K3SG-BUNDLE-UNREADABLE': {
    severity: 'critical',
    title: 'Tampered bundle cannot be read',
    explanation:
      'The bundle already does not match its name, and its contents cannot be read either, so what was ' +
      'changed in it cannot be listed. (A bundle that matches its name but cannot be read is a corrupt ' +
      'input, reported as an error, not this finding.)',
    fix: REPLACE_BINARY,
    appliesTo: EMBEDDED,
  },
  'K3SG-BUNDLE-MANIFEST-MISSING': {
    severity: 'high',
    title: 'Bundle manifest missing',
    explanation:
      '`bin/.sha256sums` (the hash of every file in `bin/`) and `bin/.links` (every symlink and its target) ' +
      'are the record of what the bundle should hold. Without one, the files or links it covers cannot be ' +
      'checked, and removing it is the simplest way to hide a change from a check.',
    fix: REPLACE,
    appliesTo: BOTH,
  },
  'K3SG-BUNDLE-MANIFEST-MALFORMED': {
    severity: 'high',
    title: 'Bundle manifest malformed',
    explanation:
      'Lines of `bin/.sha256sums` or `bin/.links` that cannot be parsed check nothing: the files they should ' +
      'cover go unchecked. K3s writes these files itself, so a malformed line was written by something else.',
    fix: REPLACE,
    appliesTo: BOTH,
  },
  'K3SG-BUNDLE-MEMBER-MODIFIED': {
    severity: 'critical',
    title: 'Bundled file differs from its manifest hash',
    explanation:
      'A file in `bin/` whose sha256 is not the one `bin/.sha256sums` lists (or that is no longer a regular ' +
      'file) was changed after the bundle was built. These are containerd, its shims, runc and the CNI ' +
      'plugins: a replaced one runs as root for every pod on the node.',
    fix: REPLACE,
    appliesTo: BOTH,
  },
  'K3SG-BUNDLE-MEMBER-MISSING': {
    severity: 'high',
    title: 'Bundled file listed in the manifest is missing',
    explanation:
      "A file `bin/.sha256sums` lists is gone. K3s puts the bundle's `bin/` on its PATH, so a missing tool " +
      'is looked up further along the PATH, where any other file of that name runs instead; at best the ' +
      'node fails.',
    fix: REPLACE,
    appliesTo: BOTH,
  },
  'K3SG-BUNDLE-MEMBER-UNLISTED': {
    severity: 'high',
    title: 'Bundled file not listed in the manifest',
    explanation:
      'A file in `bin/` that `bin/.sha256sums` does not list was added after the build. `bin/` is on the ' +
      'PATH of K3s and its containerd, so an added file can stand in for a command they run.',
    fix: REPLACE,
    appliesTo: BOTH,
  },
  'K3SG-BUNDLE-MEMBER-DUPLICATE': {
    severity: 'high',
    title: 'Bundle holds the same path twice',
    explanation:
      'Extraction keeps the last copy of a path, while a check that stops at the first one sees other ' +
      'content: two copies of one path are a way to get a file past a check. A K3s build never writes a ' +
      'path twice.',
    fix: REPLACE_BINARY,
    appliesTo: EMBEDDED,
  },
  'K3SG-BUNDLE-MEMBER-SPECIAL': {
    severity: 'high',
    title: 'Bundle holds a device node, FIFO or socket',
    explanation:
      'A release bundle holds only files, directories and links. A device node extracted as root gives ' +
      'access to that device (a disk, memory) through a path in the data dir; a FIFO or socket has no ' +
      'business there either.',
    fix: REPLACE,
    appliesTo: BOTH,
  },
  'K3SG-BUNDLE-LINK-MISMATCH': {
    severity: 'critical',
    title: 'Bundled symlink differs from bin/.links',
    explanation:
      "`bin/.links` lists the bundle's symlinks and their targets (the tool names K3s provides, such as " +
      '`kubectl`, `crictl` and `ctr`, point at the k3s multi-call binary). A link pointing elsewhere, or ' +
      'replaced by a file, makes that name run something else, as root.',
    fix: REPLACE,
    appliesTo: BOTH,
  },
  'K3SG-BUNDLE-LINK-MISSING': {
    severity: 'high',
    title: 'Symlink listed in bin/.links is missing',
    explanation:
      'A symlink `bin/.links` lists is gone: the name is then looked up further along the PATH, where any ' +
      'other file of that name runs instead.',
    fix: REPLACE,
    appliesTo: BOTH,
  },
  'K3SG-BUNDLE-LINK-UNLISTED': {
    severity: 'high',
    title: 'Bundled symlink not listed in bin/.links',
    explanation:
      'A symlink in `bin/` that `bin/.links` does not list was added after the build: it puts a new name on ' +
      'the PATH of K3s and containerd, pointing wherever its author chose.',
    fix: REPLACE,
    appliesTo: BOTH,
  },
  'K3SG-BUNDLE-SYMLINK-ESCAPE': {
    severity: 'critical',
    title: 'Symlink points outside the bundle',
    explanation:
      'A symlink in an extracted bundle to an absolute path, or climbing above the bundle root, makes ' +
      'whatever runs it run a file from outside the bundle, which no manifest hash covers. (In an embedded ' +
      'bundle such a link stops the read as unsafe input.)',
    fix: REPLACE,
    appliesTo: EXTRACTED,
  },
  'K3SG-BUNDLE-SYMLINK-LOOP': {
    severity: 'high',
    title: 'Symlinks in the bundle form a loop',
    explanation:
      'A symlink that never resolves breaks every command run through it, and a release bundle never holds ' +
      'one: the links were rewritten after the build.',
    fix: REPLACE,
    appliesTo: BOTH,
  },
} as const satisfies Record<string, RuleText>;

export const BUNDLE_RULES = ruleTable('bundle', texts);

export type BundleRuleId = keyof typeof BUNDLE_RULES;
