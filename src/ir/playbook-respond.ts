// The first half of the playbook: Detect, then Respond: contain (without touching the node),
// keep the evidence (before anything on the node changes), eradicate.
import { type PlaybookCommand, type PlaybookPhase, type StepContext, sh } from './playbook-model.ts';

export function respondPhases(ctx: StepContext): PlaybookPhase[] {
  const { n, step, server, onServer, ev, namespaces } = ctx;
  const phases: PlaybookPhase[] = [];
  phases.push({
    name: 'Detect',
    steps: [
      step({
        title: 'Confirm what changed, and since when',
        why: 'An alert names one symptom; the diff against the last good evidence (or the lock of reviewed digests) names every change on the node, most important first, and the agent says when it first saw something wrong: recovery restores from before that.',
        where: 'an admin workstation holding the evidence',
        commands: [
          { run: `k3sguard ir verify ${sh(ev)} --key org.pub` },
          { run: `k3sguard ir diff <LAST-GOOD-EVIDENCE>.tar.zst ${sh(ev)}` },
          { run: `k3sguard ir diff k3sguard.lock ${sh(ev)}` },
        ],
      }),
      step({
        title: 'Check the node against the lock and its own bundle',
        why: 'A replaced binary, a tampered data dir or an unreviewed manifest is proof the node itself is compromised, not only a workload: the response then covers the node and every credential it held.',
        where: 'this node',
        commands: [
          { run: `k3sguard audit node --root / --lock k3sguard.lock` },
          { run: `k3sguard verify --lock k3sguard.lock ${sh(n.binary)}` },
        ],
      }),
    ],
  });

  const deny = namespaces
    .map(
      (ns) =>
        `kubectl apply -f - <<'EOF'\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: ir-deny-all\n  namespace: ${sh(ns)}\nspec:\n  podSelector: {}\n  policyTypes: [Ingress, Egress]\nEOF`,
    )
    .map((run) => ({ run }));
  phases.push({
    name: 'Respond: contain',
    steps: [
      step({
        title: 'Cordon the node',
        why: 'No new pod is scheduled here, while the running ones (and what they hold as evidence) stay as they are.',
        where: 'an admin workstation',
        commands: [{ run: `kubectl cordon ${sh(n.name)}` }],
      }),
      step({
        title: 'Cut the affected namespaces off the network',
        why: 'A deny-all NetworkPolicy stops traffic in and out of every pod of the namespace without deleting anything; K3s enforces it with its embedded network policy controller (unless the servers run with `disable-network-policy`).',
        where: 'an admin workstation',
        commands: deny,
      }),
      step({
        title: 'Stop the cluster from pulling the bad content again',
        why: 'A re-pointed tag is pulled again by every node that starts the pod. The policy has no list of refused digests: refuse by requiring digests and your organisation signature, so only reviewed, signed content is admitted, and enforce it in the webhook; then remove the image from this node.',
        where: 'an admin workstation, then this node',
        commands: [
          {
            run: 'k3sguard verify --policy policy.yaml <IMAGE-ARCHIVE>   # policy.yaml: requireDigest: true, requireSignature: {key: org.pub}',
          },
          { run: 'k3sguard webhook --policy policy.yaml --mode enforce --tls-cert tls.crt --tls-key tls.key' },
          ...(n.images.length > 0
            ? n.images.map((i) => ({ run: `k3s crictl rmi ${sh(i)}   # if it is one of the bad images` }))
            : [{ run: 'k3s crictl rmi <IMAGE>@<DIGEST>' }]),
        ],
      }),
    ],
  });

  const snapshot: PlaybookCommand[] =
    !server || n.datastore === 'etcd' || n.datastore === 'unknown'
      ? [
          { run: `k3s etcd-snapshot save --name ${sh(`ir-${n.name}`)}`, needs: 'etcd-snapshot-save' },
          { run: `cp ${sh(`${n.snapshotsDir}/ir-${n.name}`)}-* /mnt/evidence/` },
        ]
      : n.datastore === 'sqlite'
        ? [
            {
              run: `systemctl stop ${n.unit} && cp -a ${sh(`${n.dataDir}/server/db`)} ${sh(`/mnt/evidence/db-${n.name}`)} && systemctl start ${n.unit}`,
            },
          ]
        : [
            {
              run: '# the external datastore: take a dump with its own tools (pg_dump, mysqldump, etcdctl snapshot save)',
            },
          ];
  phases.push({
    name: 'Respond: keep the evidence (before anything on the node changes)',
    steps: [
      step({
        title: 'Collect signed evidence',
        why: 'Draining, restarting or reinstalling destroys what the node shows now. The archive keeps the binary, data dir, manifests, settings, images, processes and the agent state with their digests, signed, so it can later be shown untouched (NIST SP 800-61r3 RS.AN-06/07); secrets stay on the node.',
        where: 'this node',
        commands: [
          {
            run: `k3sguard ir collect --data-dir ${sh(n.dataDir)} --lock k3sguard.lock --policy policy.yaml -o ${sh(`/mnt/evidence/${n.name}`)}-$(date -u +%Y%m%dT%H%M%SZ).tar.zst --key org.pem`,
          },
          { run: `k3sguard ir verify ${sh(`/mnt/evidence/${n.name}`)}-*.tar.zst --key org.pub` },
        ],
      }),
      step({
        title: 'Snapshot the cluster datastore, and keep the token with it',
        why: `A snapshot is the state to compare and, if it predates the compromise, to restore. It is decrypted with the server token in force when it was taken: keep a copy of ${n.tokenFile} with it, apart from the cluster (an offline vault), since after the token is rotated only the old token opens it.`,
        where: onServer,
        commands: [
          ...snapshot,
          {
            run: `cp ${sh(n.tokenFile)} /mnt/evidence/token-$(date -u +%Y%m%dT%H%M%SZ)   # into the vault, not the cluster`,
          },
        ],
        instead: {
          'etcd-snapshot-save': `Instead, with K3s stopped on this server, copy the datastore: \`systemctl stop ${n.unit} && cp -a ${n.dataDir}/server/db /mnt/evidence/db-${n.name}\`.`,
        },
      }),
      step({
        title: 'Drain the node, or stop K3s on it',
        why: 'Only now, with the evidence kept: draining evicts the pods to healthy nodes; when the node itself is suspect (binary, bundle, processes), stop every K3s process and container on it.',
        where: 'an admin workstation, then this node',
        commands: [
          { run: `kubectl drain ${sh(n.name)} --ignore-daemonsets --delete-emptydir-data` },
          { run: '/usr/local/bin/k3s-killall.sh' },
        ],
      }),
    ],
  });

  const cleanData =
    n.bundleDirs.length > 0
      ? n.bundleDirs.map((h) => sh(`${n.dataDir}/data/${h}`)).join(' ')
      : `${sh(`${n.dataDir}/data`)}/<HASH>`;
  phases.push({
    name: 'Respond: eradicate',
    steps: [
      step({
        title: 'Re-verify the release and reinstall from it',
        why: `install.sh checks the download only against a sums file from the same release; re-verify the artifacts against the lock of reviewed digests, put the verified binary at ${n.binary} and let install.sh use it. K3s checks an extracted bundle once, at extraction: remove the extracted bundles so the verified binary extracts its own.`,
        where: 'this node',
        commands: [
          { run: `k3sguard verify --release rel --expect-version ${n.versionText}` },
          { run: 'k3sguard verify --lock k3sguard.lock --release rel' },
          { run: `rm -rf ${cleanData}` },
          { run: `install -m 0755 rel/k3s ${sh(n.binary)}` },
          {
            run: `INSTALL_K3S_SKIP_DOWNLOAD=true INSTALL_K3S_VERSION=${n.versionText} INSTALL_K3S_EXEC='${n.role}' sh install.sh   # install.sh verified against the lock too`,
          },
        ],
      }),
      ...(server
        ? [
            step({
              title: 'Remove auto-deployed add-ons by hand',
              why: `K3s applies every file in ${n.manifestsDir} at start, and deleting a file there does not delete what it created: delete the resources with the copy in the evidence, then the file. ${n.manifestsLocked ? 'Listed: the manifests the lock in force does not vouch for.' : 'Listed: every manifest K3s does not ship (no lock in the evidence): remove only those nobody put there on purpose.'} A packaged add-on is disabled with \`disable\` in ${n.configFile}.`,
              where: onServer,
              commands: (n.foreignManifests.length > 0 ? n.foreignManifests : ['<MANIFEST>.yaml']).flatMap((m) => [
                { run: `kubectl delete -f <EVIDENCE-DIR>/${sh(`files${n.manifestsDir}/${m}`)}` },
                { run: `rm ${sh(`${n.manifestsDir}/${m}`)}` },
              ]),
            }),
          ]
        : []),
      step({
        title: 'Undo weakened registry and config settings',
        why: 'An insecure registry setting (TLS not verified, plain HTTP, a mirror for every registry) lets anyone on the path serve any image: put back the reviewed registries.yaml and config.yaml on every node.',
        where: 'every node',
        commands: [
          ...n.insecureRegistry.map((x) => ({ run: `# remove from /etc/rancher/k3s/registries.yaml: ${x}` })),
          { run: `k3sguard audit node --root /` },
          { run: `systemctl restart ${n.unit}` },
        ],
      }),
    ],
  });

  return phases;
}
