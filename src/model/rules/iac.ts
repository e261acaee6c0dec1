// The rules of `audit iac`: infrastructure code that installs K3s or deploys onto it without
// pinning what it installs. Shape: src/model/rules/rule.ts; docs/rules.md is generated from these.
import type { Rule } from './rule.ts';

const SCRIPTS = [
  'shell script',
  'cloud-init (runcmd, bootcmd, write_files)',
  'Terraform (user_data heredocs, remote-exec inline)',
  'Dockerfile RUN',
  'GitHub Actions run:',
  'GitLab CI script:',
  'Ansible shell/command tasks',
];

export const INSTALL_UNPINNED: Rule = {
  id: 'K3SG-IAC-INSTALL-UNPINNED',
  area: 'iac',
  severity: 'high',
  title: 'K3s install script run without INSTALL_K3S_VERSION',
  explanation:
    'Without `INSTALL_K3S_VERSION`, install.sh asks the update channel (default `stable`) which release to ' +
    'install, so every node installs whatever was newest at boot time: two nodes of one cluster can run ' +
    'different versions, and a compromised or mistaken channel answer goes straight to production. ' +
    'A variable assigned in the script but not exported never reaches install.sh.',
  fix: 'Pass an exact release: `curl -sfL https://get.k3s.io -o install.sh && echo "<sha256>  install.sh" | sha256sum -c && INSTALL_K3S_VERSION=v1.31.4+k3s1 sh install.sh`.',
  appliesTo: SCRIPTS,
};

export const INSTALL_CHANNEL: Rule = {
  id: 'K3SG-IAC-INSTALL-CHANNEL',
  area: 'iac',
  severity: 'high',
  title: 'K3s install script follows a channel (INSTALL_K3S_CHANNEL) instead of a version',
  explanation:
    '`INSTALL_K3S_CHANNEL` (`stable`, `latest`, `v1.31`) resolves to a different release as new ones are ' +
    'published; the version installed is decided by the channel server at install time, not by the repository.',
  fix: 'Replace `INSTALL_K3S_CHANNEL` with `INSTALL_K3S_VERSION=<exact release, e.g. v1.31.4+k3s1>`.',
  appliesTo: SCRIPTS,
};

export const INSTALL_SCRIPT_UNVERIFIED: Rule = {
  id: 'K3SG-IAC-INSTALL-SCRIPT-UNVERIFIED',
  area: 'iac',
  severity: 'high',
  title: 'K3s install script fetched and run without checking its hash',
  explanation:
    '`curl https://get.k3s.io | sh` runs whatever the server (or anyone between it and the node) sends, as root, ' +
    'and a pipe leaves no chance to check it. install.sh pins nothing itself: the script is the trust root of ' +
    'the whole install. Downloading it to a file and running it without a hash check is the same.',
  fix:
    'Download to a file, check it against a hash committed next to this code, then run it: ' +
    '`curl -sfL https://get.k3s.io -o install.sh && echo "<sha256>  install.sh" | sha256sum -c - && sh install.sh`; ' +
    'in Ansible give `get_url` a `checksum:`.',
  appliesTo: [...SCRIPTS, 'Ansible get_url'],
};

export const SKIP_DOWNLOAD_UNVERIFIED: Rule = {
  id: 'K3SG-IAC-SKIP-DOWNLOAD-UNVERIFIED',
  area: 'iac',
  severity: 'high',
  title: 'INSTALL_K3S_SKIP_DOWNLOAD used with no verification of the K3s binary',
  explanation:
    'With `INSTALL_K3S_SKIP_DOWNLOAD=true` install.sh installs whatever is already at /usr/local/bin/k3s and ' +
    'skips its own checksum check: the binary put there (airgap copy, artifact store, image layer) is then ' +
    'trusted unchecked unless the same script verifies it.',
  fix:
    'Verify the binary before running install.sh: `sha256sum -c sha256sum-amd64.txt --ignore-missing`, ' +
    '`k3sguard verify --lock k3sguard.lock /usr/local/bin/k3s`, or `cosign verify-blob`; in Ansible give the ' +
    'download or copy task a `checksum:`.',
  appliesTo: SCRIPTS,
};

export const IMAGE_TAG: Rule = {
  id: 'K3SG-IAC-IMAGE-TAG',
  area: 'iac',
  severity: 'medium',
  title: 'Image referenced by tag, not by digest',
  explanation:
    'A tag is a movable name: whoever can push to the repository (or poison a mirror or the embedded ' +
    'registry) can change what it means, and nodes pulling later get the new content. A reference without ' +
    'tag or digest means `:latest`.',
  fix: 'Pin the digest: `image: registry.example.com/app:1.2.3@sha256:<digest>` (keeping the tag for readers).',
  appliesTo: [
    'Kubernetes manifests (containers, initContainers, ephemeralContainers)',
    'Dockerfile FROM',
    'GitLab CI image:/services:',
    'GitHub Actions container:/services:/docker:// uses',
  ],
};

export const IMAGE_REGISTRY: Rule = {
  id: 'K3SG-IAC-IMAGE-REGISTRY',
  area: 'iac',
  severity: 'high',
  title: 'Image from a registry or repository the policy does not allow',
  explanation:
    'The image policy (`--policy`) lists the registries and repositories the cluster may pull from; an image ' +
    'from elsewhere bypasses the mirrors and reviews that list stands for. Checked only when a policy is given.',
  fix: 'Mirror the image into an allowed registry and reference it there, or add the registry to `images.allowedRegistries` after review.',
  appliesTo: IMAGE_TAG.appliesTo,
};

export const HELMCHART_VERSION: Rule = {
  id: 'K3SG-IAC-HELMCHART-VERSION',
  area: 'iac',
  severity: 'high',
  title: 'HelmChart without a pinned chart version',
  explanation:
    "K3s's helm-controller installs `spec.chart` from `spec.repo` at `spec.version`; without a version (or with " +
    'a range) it installs the newest chart in the repository whenever the CR is applied or the controller restarts.',
  fix: 'Set `spec.version` to an exact chart version (`version: 1.15.3`), or ship the chart itself (`chartContent`, or a `chart:` URL to a .tgz).',
  appliesTo: ['HelmChart (helm.cattle.io/v1)'],
};

export const PLAN_CHANNEL: Rule = {
  id: 'K3SG-IAC-PLAN-CHANNEL',
  area: 'iac',
  severity: 'high',
  title: 'system-upgrade-controller Plan follows a channel instead of a version',
  explanation:
    'A Plan with `spec.channel` upgrades every selected node to whatever the channel URL resolves to when it ' +
    'is polled: a new K3s release rolls out to the cluster without a commit in this repository.',
  fix: 'Replace `channel:` with `version: v1.31.4+k3s1` (an exact release) and change it by commit.',
  appliesTo: ['system-upgrade-controller Plan (upgrade.cattle.io/v1)'],
};

export const ACTION_UNPINNED: Rule = {
  id: 'K3SG-IAC-ACTION-UNPINNED',
  area: 'iac',
  severity: 'high',
  title: 'GitHub Action not pinned to a full commit SHA',
  explanation:
    'A tag or branch (`@v4`, `@main`) can be moved by anyone with push access to the action, and the next ' +
    "workflow run executes the new code with this repository's secrets (tj-actions/changed-files, 2025). Only " +
    'a 40-hex commit SHA is immutable.',
  fix: 'Pin the commit and keep the tag as a comment: `uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2`.',
  appliesTo: ['GitHub Actions workflows and composite actions (uses:)'],
};

export const NOT_AUDITED: Rule = {
  id: 'K3SG-IAC-NOT-AUDITED',
  area: 'iac',
  // As high as any finding the file could hide: an audit that cannot read a file has not
  // shown it is clean, and a hostile file can be made unreadable to the audit on purpose
  // (nested past a limit, padded past the size limit, one invalid document).
  severity: 'high',
  title: 'A file that may install K3s or deploy onto it could not be audited',
  explanation:
    'The file was found (by its name, or given on the command line) but could not be checked: unreadable, ' +
    'over `--max-file-size`, binary, YAML that does not parse, scripts nested past the limit, an alias bomb. ' +
    'A shell or Kubernetes may still run it, so whatever it installs is unreviewed. The reason is under ' +
    '"Not audited" (JSON `problems`). Symlink loops are not counted: they have no content of their own.',
  fix:
    'Make the file auditable (fix the YAML, flatten the nesting, raise `--max-file-size`), or, for a file that is ' +
    'not what its name says (a Helm template, a test fixture), waive it by path in the policy file: ' +
    '`audit.waivers: [{rule: K3SG-IAC-NOT-AUDITED, path: "charts/*/templates/**", reason: ...}]`.',
  appliesTo: ['every file audit iac reads'],
};

export const IAC_RULES: readonly Rule[] = [
  INSTALL_UNPINNED,
  INSTALL_CHANNEL,
  INSTALL_SCRIPT_UNVERIFIED,
  SKIP_DOWNLOAD_UNVERIFIED,
  IMAGE_TAG,
  IMAGE_REGISTRY,
  HELMCHART_VERSION,
  PLAN_CHANNEL,
  ACTION_UNPINNED,
  NOT_AUDITED,
];
