// The rules of image archives and OCI layouts (docker save, airgap tarballs, `ctr export`):
// the integrity of the archive against its own digests, and against the images list it should
// match. K3s imports every archive dropped into agent/images/ without a question, so these are
// checked before one gets there. The checks are in src/readers/images/ (and the images list in
// imageslist.ts); each message says what would be imported.
import { type RuleText, ruleTable } from './rule.ts';

const ARCHIVE = ['image archive (docker save, OCI layout, airgap tarball)'];

const REFETCH =
  'Do not import the archive: it is not what its own digests say. Fetch it again from a trusted source ' +
  '(the K3s release for airgap tarballs) and check its published hash.';

const texts = {
  'K3SG-IMAGE-BLOB-DIGEST': {
    severity: 'critical',
    title: 'Image blob does not match its digest',
    explanation:
      'Images are content-addressed: a manifest names its config and layers by sha256, and the image is ' +
      'what those digests commit to. A blob (or config) whose bytes hash to something else than its name ' +
      'was changed after it was named, and containerd would import the changed content under the trusted name.',
    fix: REFETCH,
    appliesTo: ARCHIVE,
  },
  'K3SG-IMAGE-BLOB-SIZE': {
    severity: 'high',
    title: 'Image blob size differs from its descriptor',
    explanation:
      'A descriptor gives both the digest and the size of the blob it names. A blob of another size is not ' +
      'the blob that was described: truncated, padded or swapped.',
    fix: REFETCH,
    appliesTo: ARCHIVE,
  },
  'K3SG-IMAGE-BLOB-MISSING': {
    severity: 'high',
    title: 'Image descriptor names a blob the archive lacks',
    explanation:
      'A manifest or manifest.json entry names a layer or config the archive does not hold: the archive ' +
      'is incomplete or was cut down, so the image cannot be checked whole; containerd fails the import ' +
      'or fetches the missing content from a registry, unreviewed.',
    fix: REFETCH,
    appliesTo: ARCHIVE,
  },
  'K3SG-IMAGE-LAYER-UNREADABLE': {
    severity: 'high',
    title: 'Image layer cannot be decompressed',
    explanation:
      'A layer that does not decompress, or is not a complete tar, cannot be checked against the diff_ids ' +
      'of its config, and its files cannot be listed or scanned; containerd cannot unpack it either.',
    fix: REFETCH,
    appliesTo: ARCHIVE,
  },
  'K3SG-IMAGE-DIFFID': {
    severity: 'critical',
    title: 'Layer content differs from the config diff_ids',
    explanation:
      "The config's `rootfs.diff_ids` are the digests of the uncompressed layers, and the image id is the " +
      'digest of the config: they fix what the container file system is. A layer that uncompresses to ' +
      'something else (or a different number of layers) was swapped while the config was kept.',
    fix: REFETCH,
    appliesTo: ARCHIVE,
  },
  'K3SG-IMAGE-VIEWS-DIFFER': {
    severity: 'critical',
    title: 'index.json and manifest.json describe different images',
    explanation:
      'An archive with both an OCI `index.json` and a docker `manifest.json` can be read through either. ' +
      'When they name different layers for one image, the image a tool checks through one view is not ' +
      'the image another tool imports through the other.',
    fix: REFETCH,
    appliesTo: ARCHIVE,
  },
  'K3SG-IMAGE-PLATFORM': {
    severity: 'medium',
    title: 'Image has no manifest for the wanted platform',
    explanation:
      'The archive holds no manifest for the platform the nodes run (`--platform`, by default ' +
      '`linux/amd64`), or the image is built for another one: the content checked here is not what the ' +
      'nodes would run, and they fail to start it or fetch another variant from a registry.',
    fix: 'Build or export the archive for the platform of the nodes (`docker save --platform`, `ctr export --platform`), or check it with the `--platform` the nodes run.',
    appliesTo: ARCHIVE,
  },
  'K3SG-IMAGE-EXTRA': {
    severity: 'high',
    title: 'Archive holds an image that is not in the images list',
    explanation:
      'K3s imports every image of an archive in `agent/images/`, under the names the archive gives. An ' +
      "image the list (`--images-list`, e.g. the release's k3s-images.txt) does not name was added to the " +
      'archive: it can take over a tag any pod on the node uses.',
    fix: 'Remove the image from the archive and find out who added it, or add it to the images list after review.',
    appliesTo: [...ARCHIVE, 'images list (k3s-images.txt)'],
  },
  'K3SG-IMAGE-MISSING': {
    severity: 'high',
    title: 'Listed image is missing from the archive',
    explanation:
      'An image the list names is not in the archive: an airgapped node cannot start it, and a connected ' +
      'one pulls it from a registry instead, bypassing the review the archive stands for.',
    fix: "Rebuild the archive with every image of the list (or take the release's own airgap tarball).",
    appliesTo: [...ARCHIVE, 'images list (k3s-images.txt)'],
  },
  'K3SG-IMAGE-LAYER-PATH': {
    severity: 'high',
    title: 'Image layer member escapes the image root',
    explanation:
      'A layer member with an absolute name or a `..` component, or a hard link to anything but an earlier ' +
      'member of the same layer, is written outside the container file system by a careless unpacker: an ' +
      'attempt to escape, never produced by an image build. A name or symlink target longer than PATH_MAX ' +
      '(4,096 bytes) is no path a kernel takes, only a way to slow tools down. The member is skipped, the ' +
      'rest of the layer read.',
    fix: 'Do not import the image; find out where it was built, and rebuild it from a trusted Dockerfile.',
    appliesTo: ARCHIVE,
  },
  'K3SG-IMAGE-ARCHIVE-LINK': {
    severity: 'high',
    title: 'Image archive member links out of the archive',
    explanation:
      'A symbolic link among the members of the archive itself (not of a layer) to an absolute path or ' +
      'climbing above the archive root, or a hard link to anything but an earlier file of the archive, ' +
      'names a file outside the archive (`/etc/passwd`): once the archive is unpacked (`tar -x` before ' +
      'an import, a tool that unpacks into a temporary directory), that file is what gets read or ' +
      'overwritten. No image tool writes such a member; it is reported whether or not a manifest refers ' +
      'to it (one that does makes the archive unreadable, an error).',
    fix:
      'Do not import or unpack the archive; find out who made it, and export or fetch it again from a ' +
      'trusted source.',
    appliesTo: ARCHIVE,
  },
  'K3SG-IMAGE-ARCHIVE-THROUGH-LINK': {
    severity: 'critical',
    title: 'Image archive member lies under a symbolic link',
    explanation:
      'A member whose path goes through a symbolic link member of the same archive (`evil -> /tmp/x`, ' +
      'then `evil/pwned`) is written wherever the link points when the archive is unpacked, outside the ' +
      'directory it is unpacked into: the classic tar path traversal. No image tool writes one.',
    fix:
      'Do not import or unpack the archive; find out who made it, and export or fetch it again from a ' +
      'trusted source.',
    appliesTo: ARCHIVE,
  },
} as const satisfies Record<string, RuleText>;

export const IMAGE_RULES = ruleTable('image', texts);

export type ImageRuleId = keyof typeof IMAGE_RULES;
