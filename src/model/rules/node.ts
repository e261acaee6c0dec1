// The rules of `audit node`: one record per check, the single source of its id, severity and
// texts (see src/model/rules/rule.ts). The checks themselves are in src/audit/node/.
import { type Rule, type RuleText, ruleTable } from './rule.ts';

const texts = {
  'K3SG-NODE-REGISTRY-INSECURE-TLS': {
    severity: 'high',
    title: 'registries.yaml turns off TLS verification for a registry',
    explanation:
      '`insecure_skip_verify: true` makes containerd accept any certificate from that registry, so anyone on the ' +
      'network path can answer image pulls with images of their choosing.',
    fix: "Remove `insecure_skip_verify`, and give the registry's CA with `tls.ca_file` if it uses a private CA.",
    appliesTo: ['registries.yaml'],
  },
  'K3SG-NODE-REGISTRY-HTTP-ENDPOINT': {
    severity: 'high',
    title: 'registries.yaml pulls from a plain-http endpoint',
    explanation:
      'An `http://` mirror endpoint is neither authenticated nor encrypted: whoever can see the traffic can ' +
      'replace image manifests and layers pulled by tag.',
    fix: 'Serve the mirror over HTTPS and write its endpoint as `https://...`.',
    appliesTo: ['registries.yaml'],
  },
  'K3SG-NODE-REGISTRY-MIRROR-HOST': {
    severity: 'high',
    title: 'registries.yaml sends pulls to a host the image policy does not allow',
    explanation:
      'A mirror endpoint is where containerd really pulls from, whatever registry the image names. A mirror for ' +
      '`"*"` redirects every registry, and `rewrite` rules rename the images on the way; an endpoint outside the ' +
      "policy's `allowedRegistries` lets that host serve every image the cluster runs.",
    fix: "Point mirrors only at registries listed in the policy's `allowedRegistries`, or add the mirror there after review.",
    appliesTo: ['registries.yaml'],
  },
  'K3SG-NODE-REGISTRY-CREDENTIALS-READABLE': {
    severity: 'high',
    title: 'Registry credentials in a file other users can read',
    explanation:
      'registries.yaml holds registry usernames, passwords and tokens in clear text. Readable by group or others, ' +
      'any local user or compromised service can take them and push to (or pull from) the registry.',
    fix: 'Make the file readable by root only: `chmod 600 /etc/rancher/k3s/registries.yaml`.',
    appliesTo: ['registries.yaml'],
  },
  'K3SG-NODE-CONFIG-SECRET-READABLE': {
    severity: 'high',
    title: 'A K3s secret in config.yaml (or a drop-in, or a token file) other users can read',
    explanation:
      'The cluster `token` lets a machine join as a server and decrypt the bootstrap data (the cluster CA keys, ' +
      'the datastore credentials); `agent-token` joins agents; `datastore-endpoint` may carry the database ' +
      'password, `etcd-s3-secret-key` the snapshot bucket key. In a file readable by group or others, any local ' +
      'user or compromised service can take them. Each file counts as it is on disk, even when a later drop-in ' +
      'overrides its value; `token-file`/`agent-token-file` count by the mode of the file they name.',
    fix:
      'Make the file readable by root only: `chmod 600 /etc/rancher/k3s/config.yaml` (and each file in ' +
      '`config.yaml.d/`, and the token file), then rotate the secret if others may have read it (`k3s token rotate`).',
    appliesTo: ['config.yaml', 'config.yaml.d', 'token-file'],
  },
  'K3SG-NODE-KUBECONFIG-READABLE': {
    severity: 'high',
    title: 'The cluster-admin kubeconfig is readable by group or others',
    explanation:
      'K3s writes a kubeconfig with a cluster-admin client certificate to `/etc/rancher/k3s/k3s.yaml` (or ' +
      '`write-kubeconfig`) with the mode `write-kubeconfig-mode` gives. Any mode giving group or others access ' +
      '(`644`, as many guides suggest) makes every local user cluster-admin.',
    fix:
      'Remove `write-kubeconfig-mode` (K3s then writes 0600) or set it to `0600`, `chmod 600` the kubeconfig, and ' +
      'give users their own credentials (`k3s kubectl create token`, RBAC) instead.',
    appliesTo: ['config.yaml', 'k3s.service', '/etc/rancher/k3s/k3s.yaml'],
  },
  'K3SG-NODE-CONFIG-DEFAULT-REGISTRY': {
    severity: 'high',
    title: 'system-default-registry is a registry the image policy does not allow',
    explanation:
      "`system-default-registry` is prefixed to every image of K3s's own components (CoreDNS, Traefik, " +
      'metrics-server, pause): that registry serves the control plane and the pods of every node.',
    fix: "Set `system-default-registry` to a registry in the policy's `allowedRegistries`, or remove it.",
    appliesTo: ['config.yaml', 'k3s.service'],
  },
  'K3SG-NODE-CONFIG-EMBEDDED-REGISTRY': {
    severity: 'medium',
    title: 'The embedded registry (Spegel) is enabled',
    explanation:
      'With `embedded-registry: true` every node serves the images it has to the others. A node that can push ' +
      'into its containerd can poison a tag for the whole cluster; only references by digest are safe from it.',
    fix: 'Pull every workload image by digest (`image: repo@sha256:...`), or turn the embedded registry off.',
    appliesTo: ['config.yaml', 'k3s.service'],
  },
  'K3SG-NODE-CONFIG-FLAG-CONFLICT': {
    severity: 'medium',
    title: 'A flag is set both in config.yaml and on the service command line, with different values',
    explanation:
      'K3s reads config.yaml (and config.yaml.d/) first and the command line after: the command line wins for ' +
      'single values and adds to lists. Reviewing the config file then does not tell what the node runs with.',
    fix: 'Set each flag in one place: remove it from `ExecStart` of the unit or from the config file.',
    appliesTo: ['config.yaml', 'k3s.service'],
  },
  'K3SG-NODE-MANIFEST-UNLOCKED': {
    severity: 'high',
    title: 'Auto-deploy manifest not in the lock file',
    explanation:
      'K3s applies every file in `server/manifests/` to the cluster, at start and whenever it changes: a file ' +
      'dropped there is a direct path into the cluster. Only a manifest whose digest was reviewed and locked is known.',
    fix: 'Review the file, then lock it (`k3sguard lock add FILE`); remove files nobody can account for.',
    appliesTo: ['server/manifests'],
  },
  'K3SG-NODE-MANIFEST-IMAGE-TAG': {
    severity: 'medium',
    title: 'Auto-deploy manifest references an image by tag',
    explanation: 'A tag can be moved to other content at the registry (or by a mirror); a digest cannot.',
    fix: 'Reference the image by digest: `image: registry/repo:tag@sha256:<digest>`.',
    appliesTo: ['server/manifests'],
  },
  'K3SG-NODE-HELMCHART-VERSION': {
    // The same check as K3SG-IAC-HELMCHART-VERSION (on the node instead of in the repository),
    // so the same severity: an unpinned chart is an unreviewed upgrade path.
    severity: 'high',
    title: 'HelmChart without a pinned chart version',
    explanation:
      'Without `spec.version` the Helm controller installs whatever version the repository offers at the time, ' +
      'and upgrades to it silently on the next reconcile.',
    fix: 'Set `spec.version` to an exact chart version, or serve a reviewed `.tgz` from `static/charts/`.',
    appliesTo: ['server/manifests'],
  },
  'K3SG-NODE-CHART-UNLOCKED': {
    severity: 'high',
    title: 'Helm chart in static/charts not in the lock file',
    explanation:
      'Charts in `server/static/charts/` are served by the API server to HelmChart resources and installed ' +
      'with cluster-admin rights.',
    fix: 'Review the chart, then lock it (`k3sguard lock add FILE`); remove charts nobody can account for.',
    appliesTo: ['server/static/charts'],
  },
  'K3SG-NODE-AIRGAP-UNLOCKED': {
    severity: 'high',
    title: 'Airgap image tarball not in the lock file',
    explanation:
      'K3s imports every tarball in `agent/images/` into containerd, even while running, under the names the ' +
      "tarball gives: a planted tarball replaces any image's tag on that node.",
    fix: "Lock the release's airgap tarballs (`k3sguard lock add`), and remove tarballs nobody can account for.",
    appliesTo: ['agent/images'],
  },
  'K3SG-NODE-BINARY-WRITABLE': {
    severity: 'critical',
    title: 'The k3s binary can be replaced by a user other than root',
    explanation:
      'K3s runs as root. A binary (or its directory) writable by group or others, or owned by another user, ' +
      'lets that user replace what root runs at the next start.',
    fix: 'Make it root-owned and not writable by others: `chown root:root` and `chmod 755` the binary and its directory.',
    appliesTo: ['/usr/local/bin/k3s'],
  },
  'K3SG-NODE-BINARY-UNLOCKED': {
    severity: 'high',
    title: 'The installed k3s binary is not in the lock file',
    explanation:
      'The lock records the K3s binaries that were verified and reviewed. An installed binary whose digest is not ' +
      'locked under its name was not among them: another version, or a replaced file.',
    fix: 'Verify the binary against its release (`k3sguard verify`), lock it, or reinstall a locked release.',
    appliesTo: ['/usr/local/bin/k3s'],
  },
  'K3SG-NODE-BINARY-BUNDLE': {
    severity: 'critical',
    title: "The installed k3s binary's embedded bundle does not match its name",
    explanation:
      'A K3s binary embeds its bundle as `<sha256>.tar.zst`; K3s extracts it to `data/<sha256>` and runs ' +
      'everything from there. A bundle whose bytes do not hash to its name was changed after the build.',
    fix: 'Do not restart K3s with this binary: replace it with a verified release binary.',
    appliesTo: ['/usr/local/bin/k3s'],
  },
  'K3SG-NODE-UNIT-EXECSTART': {
    severity: 'high',
    title: 'The K3s service runs a binary other than the one audited',
    explanation:
      '`ExecStart` of the systemd unit says what really runs at boot. Pointing somewhere else than ' +
      '`/usr/local/bin/k3s` means the audited binary is not the one K3s runs.',
    fix: 'Make `ExecStart` run `/usr/local/bin/k3s`, or audit the binary it names.',
    appliesTo: ['k3s.service', 'k3s-agent.service'],
  },
  'K3SG-NODE-DATA-CURRENT': {
    severity: 'high',
    title: 'data/current is not the bundle of the installed binary',
    explanation:
      'K3s runs containerd, runc, the CNI plugins and kubectl from `data/current`, which should point at ' +
      '`data/<hash>` for the bundle hash of the installed binary. Another directory there runs code the ' +
      'binary never shipped (or K3s was not restarted after an upgrade).',
    fix: 'Restart K3s from a verified binary so it extracts and points at its own bundle; delete unknown data dirs.',
    appliesTo: ['/var/lib/rancher/k3s/data'],
  },
  'K3SG-NODE-DATA-MODIFIED': {
    severity: 'critical',
    title: 'The extracted bundle in data/<hash> was changed after extraction',
    explanation:
      'K3s checks `bin/.sha256sums` and `bin/.links` only when it extracts its bundle. A file or link changed ' +
      'since then (a replaced runc or containerd shim) runs as root and K3s never notices.',
    fix: 'Stop K3s, delete the data dir, start K3s from a verified binary; treat the host as possibly compromised.',
    appliesTo: ['/var/lib/rancher/k3s/data'],
  },
} as const satisfies Record<string, RuleText>;

const NODE = ruleTable('node', texts);

export type NodeRuleId = keyof typeof NODE;

export const NODE_RULES: readonly Rule[] = Object.values(NODE);

/** The rule record of a node check. */
export function nodeRule(id: NodeRuleId): Rule {
  return NODE[id];
}
