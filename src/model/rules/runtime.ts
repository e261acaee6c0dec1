// The rules of the agent's containerd check (src/audit/runtime/containerd.ts): what runs on a
// node, as containerd's API lists it, held against the image policy and the lock. The names
// are checked with the policy's own evaluation (src/policy/evaluate.ts); these rules say that
// the subject is an image stored on the node or a container running there, not an archive.
import { type RuleText, ruleTable } from './rule.ts';

const IMAGES = ['containerd images (namespace k8s.io)'];
const CONTAINERS = ['containerd containers with a live task (namespace k8s.io)'];

const texts = {
  'K3SG-RUNTIME-IMAGE-REGISTRY': {
    severity: 'high',
    title: 'An image on the node comes from a registry the policy does not allow',
    explanation:
      "containerd holds an image named after a registry outside the policy's `allowedRegistries`: it was pulled " +
      'or imported past the review, and any pod may start it without another pull.',
    fix: 'Find who pulled or imported it (`ctr -n k8s.io images ls`), remove it (`crictl rmi`), and mirror it into an allowed registry if it is needed.',
    appliesTo: IMAGES,
  },
  'K3SG-RUNTIME-IMAGE-REPOSITORY': {
    severity: 'high',
    title: 'An image on the node is from a repository the policy does not allow',
    explanation:
      "The image's repository matches none of the policy's `allowedRepositories`: an allowed registry also " +
      "hosts other people's images, and a look-alike name is the usual way to slip one in.",
    fix: 'Remove the image (`crictl rmi`), or add a glob for its repository to `images.allowedRepositories` after review.',
    appliesTo: IMAGES,
  },
  'K3SG-RUNTIME-CONTAINER-REGISTRY': {
    severity: 'critical',
    title: 'A container runs an image from a registry the policy does not allow',
    explanation:
      "A live container was created from an image outside the policy's `allowedRegistries`: unreviewed code is " +
      'running on the node now, with whatever the pod grants it.',
    fix: 'Stop the workload, find what created it (the pod labels name it), and run an image from an allowed registry instead.',
    appliesTo: CONTAINERS,
  },
  'K3SG-RUNTIME-CONTAINER-REPOSITORY': {
    severity: 'critical',
    title: 'A container runs an image from a repository the policy does not allow',
    explanation:
      "A live container was created from an image whose repository matches none of the policy's " +
      '`allowedRepositories`.',
    fix: 'Stop the workload and run an image from an allowed repository, or add the repository to the policy after review.',
    appliesTo: CONTAINERS,
  },
  'K3SG-RUNTIME-CONTAINER-DIGEST': {
    severity: 'medium',
    title: 'A container was started from a tag where the policy requires a digest',
    explanation:
      'With `requireDigest: true` what runs must be pinned by `@sha256:`. This container was created from a ' +
      'tag, which the registry or a mirror can point at other content: the next restart on another node may run ' +
      'something else. (Image records named by tag are not reported: importing an airgap tarball tags its ' +
      'images; what matters is what runs by tag.)',
    fix: 'Reference the image by digest in the workload (`image: registry/repo:tag@sha256:<digest>`).',
    appliesTo: CONTAINERS,
  },
  'K3SG-RUNTIME-REFERENCE': {
    severity: 'medium',
    title: 'An image name in containerd cannot be parsed, so the policy cannot be checked',
    explanation:
      "A name that is not an image reference cannot be held against the policy's registries, repositories and " +
      'digest rule; containerd accepts names the registries would not.',
    fix: 'Find who created the record (`ctr -n k8s.io images ls`) and remove it; run images by full reference.',
    appliesTo: [...IMAGES, ...CONTAINERS],
  },
  'K3SG-RUNTIME-TAG-MOVED': {
    severity: 'high',
    title: 'A tag from a reviewed airgap tarball now points at other content',
    explanation:
      'The lock records the digest each image of a reviewed image archive had. containerd now has that name ' +
      'pointing at another digest: a later pull or import replaced the reviewed image under the same tag, and ' +
      'every pod that names the tag runs the replacement.',
    fix: 'Compare the two digests, find what re-pointed the tag (a pull by tag, another tarball in agent/images), and re-import the reviewed tarball; run images by digest.',
    appliesTo: IMAGES,
  },
  'K3SG-RUNTIME-SIGNATURE': {
    severity: 'high',
    title: 'An image in containerd lacks a valid signature by the signer the policy requires',
    explanation:
      'containerd holds cosign signatures (`sha256-<hex>.sig`) for the image, imported with it, and none of them ' +
      "verifies against the image's digest with the policy's key or keyless identity: the image was not released " +
      'by that signer, or was changed since.',
    fix: "Do not run the image: remove it (`crictl rmi`) and import it again, with its signatures, from a trusted source; or fix the policy's signer after review.",
    appliesTo: IMAGES,
  },
  'K3SG-RUNTIME-SIGNATURE-UNVERIFIED': {
    severity: 'medium',
    title: 'The policy requires signatures, but containerd holds none for the image to check',
    explanation:
      "Cosign signatures are stored in the registry (a `sha256-<hex>.sig` tag), and containerd's content store " +
      'holds them only when someone imported them with the image. Without one the signature requirement can be ' +
      'neither met nor failed: the image is reported as unknown, never as trusted.',
    fix: 'Import the images with their `.sig` tags (an airgap tarball made with them: `skopeo copy` of both tags), or verify them before they reach the node (`k3sguard verify --policy` on the tarballs, admission-time verification).',
    appliesTo: IMAGES,
  },
  'K3SG-RUNTIME-IMAGE-UNREADABLE': {
    severity: 'medium',
    title: "An image could not be read from containerd's content store",
    explanation:
      "The image's blobs could not be read, so its packages and binaries were not listed or scanned, and the " +
      'image is reported as unknown.',
    fix: 'Check the content store (`ctr -n k8s.io content ls`); pull or import the image again if its content is missing.',
    appliesTo: IMAGES,
  },
} as const satisfies Record<string, RuleText>;

export const RUNTIME_RULES = ruleTable('runtime', texts);

export type RuntimeRuleId = keyof typeof RUNTIME_RULES;
