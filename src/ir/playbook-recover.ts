// The second half of the playbook: rotate what the attacker may hold, Recover (from before the
// first bad evidence, then verify), Report.
import { type PlaybookPhase, type StepContext, sh } from './playbook-model.ts';

export function recoverPhases(ctx: StepContext): PlaybookPhase[] {
  const { n, step, onServer, ev, firstBad, namespaces } = ctx;
  const phases: PlaybookPhase[] = [];
  phases.push({
    name: 'Respond: rotate what the attacker may hold',
    steps: [
      step({
        title: 'Rotate the server token',
        why: `Anyone with the token (${n.tokenFile}, or the token in ${n.configFile}) can join nodes and decrypt the bootstrap data. Afterwards restart every server with the new token, and update agents that joined with the old server token.`,
        where: onServer,
        commands: [
          {
            run: `k3s token rotate --token "$(cat /mnt/evidence/token-*)" --new-token "<NEW-TOKEN>"`,
            needs: 'token-rotate',
          },
          { run: `# set token: <NEW-TOKEN> in ${n.configFile} on every server, then: systemctl restart k3s` },
        ],
        instead: {
          'token-rotate': `Upgrade to a release that has it (after eradication), or rebuild the cluster with a new token; until then treat the token as known to the attacker.`,
        },
      }),
      step({
        title: 'Rotate certificates and the cluster CAs',
        why: 'The node held client and server certificates, and a server holds the CA keys: with them an attacker can mint credentials for any user. Rotate the certificates on every node (servers first), and the CAs with the self-signed rotation.',
        where: `${onServer}, then every node`,
        commands: [
          {
            run: `systemctl stop ${n.unit} && k3s certificate rotate && systemctl start ${n.unit}`,
            needs: 'certificate-rotate',
          },
          {
            run: `curl -sL https://github.com/k3s-io/k3s/raw/${n.versionText}/contrib/util/rotate-default-ca-certs.sh | DATA_DIR=${sh(n.dataDir)} bash -`,
            needs: 'certificate-rotate-ca',
          },
          {
            run: `k3s certificate rotate-ca --path=${sh(`${n.dataDir}/server/rotate-ca`)}`,
            needs: 'certificate-rotate-ca',
          },
        ],
        instead: {
          'certificate-rotate': `Instead, with K3s stopped, move ${n.dataDir}/server/tls (keep the CA files) aside so K3s regenerates the rest at start, or upgrade first.`,
          'certificate-rotate-ca':
            'Rotating the self-signed CAs in place is not supported there: upgrade, or rebuild the cluster with new CAs.',
        },
      }),
      step({
        title: 'Rotate service account tokens and keys',
        why: `Service account tokens are signed with ${n.dataDir}/server/tls/service.key: tokens the attacker copied stay valid until they expire or the key changes. Delete long-lived token Secrets and restart the workloads of the affected namespaces so they get new tokens.`,
        where: 'an admin workstation',
        commands: [
          { run: 'kubectl get secrets -A --field-selector type=kubernetes.io/service-account-token' },
          ...namespaces.map((ns) => ({ run: `kubectl -n ${sh(ns)} rollout restart deployment,daemonset,statefulset` })),
        ],
      }),
      step({
        title: 'Rotate the secrets encryption keys',
        why: `A server holds the key that encrypts Secrets at rest (${n.dataDir}/server/cred/encryption-config.json): rotate it and re-encrypt.`,
        where: onServer,
        commands: [
          { run: 'k3s secrets-encrypt status', needs: 'secrets-encrypt' },
          { run: 'k3s secrets-encrypt prepare', needs: 'secrets-encrypt' },
          { run: `systemctl restart ${n.unit}   # every server, then:`, needs: 'secrets-encrypt' },
          { run: 'k3s secrets-encrypt rotate', needs: 'secrets-encrypt' },
          { run: `systemctl restart ${n.unit}   # every server, then:`, needs: 'secrets-encrypt' },
          { run: 'k3s secrets-encrypt reencrypt', needs: 'secrets-encrypt' },
        ],
        instead: {
          'secrets-encrypt': 'Without it, every Secret must be considered read: rotate the credentials they hold.',
        },
      }),
      step({
        title: 'Rotate registry credentials',
        why: 'registries.yaml holds pull (sometimes push) credentials in clear on every node: revoke them at the registry, issue new ones, and update registries.yaml on every node.',
        where: 'the registry, then every node',
        commands: (n.registryAuth.length > 0 ? n.registryAuth : ['<REGISTRY>']).map((r) => ({
          run: `# revoke and reissue the credentials for ${r}; update /etc/rancher/k3s/registries.yaml; systemctl restart ${n.unit}`,
        })),
      }),
    ],
  });

  phases.push({
    name: 'Recover',
    steps: [
      step({
        title: 'Restore from a snapshot older than the first bad evidence',
        why: `Only a snapshot taken before ${firstBad} (the first bad evidence) is known clean. It is decrypted with the token in force when it was taken: pass that token.`,
        where: onServer,
        commands:
          n.datastore === 'sqlite'
            ? [
                {
                  run: `systemctl stop ${n.unit} && cp -a <DB-COPY-BEFORE-THE-FIRST-BAD-EVIDENCE> ${sh(`${n.dataDir}/server/db`)} && systemctl start ${n.unit}`,
                },
              ]
            : [
                { run: 'k3s etcd-snapshot ls', needs: 'etcd-snapshot-save' },
                {
                  run: `systemctl stop ${n.unit} && k3s server --cluster-reset --cluster-reset-restore-path=${sh(n.snapshotsDir)}/<SNAPSHOT-BEFORE-THE-FIRST-BAD-EVIDENCE> --token "<TOKEN-OF-THAT-SNAPSHOT>"`,
                },
                { run: `systemctl start ${n.unit}` },
              ],
        instead: { 'etcd-snapshot-save': `List the snapshots in ${n.snapshotsDir} instead.` },
      }),
      step({
        title: 'Verify the node, then let it back in',
        why: 'The node is trusted again only when the same checks that would have caught the compromise pass, and a new evidence archive differs from the last good one in reviewed changes only.',
        where: 'this node, then an admin workstation',
        commands: [
          { run: `k3sguard audit node --root / --lock k3sguard.lock` },
          { run: `k3sguard verify --lock k3sguard.lock ${sh(n.binary)}` },
          { run: 'k3sguard agent --once --lock k3sguard.lock --policy policy.yaml' },
          { run: `k3sguard ir collect -o ${sh(`/mnt/evidence/${n.name}-recovered.tar.zst`)} --key org.pem` },
          { run: `k3sguard ir diff <LAST-GOOD-EVIDENCE>.tar.zst ${sh(`/mnt/evidence/${n.name}-recovered.tar.zst`)}` },
          { run: `kubectl uncordon ${sh(n.name)}` },
        ],
      }),
    ],
  });

  phases.push({
    name: 'Report',
    steps: [
      step({
        title: 'Write the incident report',
        why: 'A timeline (first bad evidence, detection, containment, recovery), what changed, the evidence archives and their manifest digests, the credentials rotated, and what to change so it cannot happen again.',
        where: 'an admin workstation',
        commands: [
          {
            run: `k3sguard ir diff <LAST-GOOD-EVIDENCE>.tar.zst ${sh(ev)} --format markdown > ${sh(`incident-${n.name}.md`)}`,
          },
          { run: `sha256sum /mnt/evidence/*.tar.zst >> ${sh(`incident-${n.name}.md`)}` },
        ],
      }),
    ],
  });

  return phases;
}
