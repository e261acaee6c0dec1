// `ir playbook`: a response plan for one node, in the order NIST SP 800-61r3 frames response
// (Detect, Respond, Recover), as issue 16 lists the steps: contain without touching the node,
// keep the evidence before anything on the node changes, eradicate, rotate what the attacker may
// hold, recover from before the first bad evidence, verify, report. Every command is filled in
// with the node's own paths; a K3s command is offered only when the node's release has it
// (k3s-commands.ts), saying which release introduced it, and otherwise what to do instead.
import { formatK3sRelease } from '../versions/k3sversion.ts';
import { availability, COMMAND_FACTS, type CommandId } from './k3s-commands.ts';
import type { PlaybookNode } from './playbook-node.ts';

export interface PlaybookCommand {
  run: string;
  /** The K3s command it relies on, when it is version-specific. */
  needs?: CommandId;
}

export interface PlaybookStep {
  title: string;
  why: string;
  /** Where the commands run: this node, a server, an admin workstation. */
  where: string;
  commands: PlaybookCommand[];
  /** Facts about version-specific commands: `k3s token rotate`: introduced in ... */
  versionNotes: string[];
}

export interface PlaybookPhase {
  name: string;
  steps: PlaybookStep[];
}

export interface Playbook {
  node: PlaybookNode;
  /** What the evidence shows, one line each (empty without evidence). */
  shows: string[];
  phases: PlaybookPhase[];
}

/**
 * A value from the evidence in a command a responder will paste into a shell: single-quoted
 * unless it is plainly safe, so a hostile file or node name cannot run anything. Placeholders
 * (`<NODE>`) stay as they are, to be replaced by hand.
 */
export function sh(value: string): string {
  if (/^[A-Za-z0-9._/:@+=,%-]+$/.test(value) || /^<[A-Z0-9-]+>$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

type StepSpec = Omit<PlaybookStep, 'versionNotes'> & { instead?: Partial<Record<CommandId, string>> };

export function buildPlaybook(n: PlaybookNode): Playbook {
  const release = formatK3sRelease(n.version);
  const step = (s: StepSpec): PlaybookStep => {
    const notes: string[] = [];
    const seen = new Set<CommandId>();
    const commands: PlaybookCommand[] = [];
    for (const c of s.commands) {
      if (!c.needs) {
        commands.push(c);
        continue;
      }
      const a = availability(c.needs, n.version);
      if (!seen.has(c.needs)) {
        seen.add(c.needs);
        const f = COMMAND_FACTS[c.needs];
        notes.push(
          a.available
            ? `\`${f.command}\` is in ${release}: it is ${a.introduced} (${f.source}).`
            : `\`${f.command}\` is not in ${release}: it is ${a.introduced} (${f.source}). ${s.instead?.[c.needs] ?? ''}`.trim(),
        );
      }
      if (a.available) commands.push(c);
    }
    return { title: s.title, why: s.why, where: s.where, commands, versionNotes: notes };
  };
  const server = n.role === 'server';
  const onServer = server ? 'this node (a server)' : 'a server node of the cluster';
  const ev = n.evidence ? n.evidence.file : '<LAST-EVIDENCE>.tar.zst';
  const firstBad = n.firstBad ?? '<FIRST-BAD-TIME>';
  const nsList = n.namespaces.filter((x) => x !== 'kube-system');
  const namespaces = nsList.length > 0 ? nsList : ['<NAMESPACE>'];
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

  return { node: n, shows: shows(n), phases };
}

function shows(n: PlaybookNode): string[] {
  if (!n.evidence) return [];
  const out = [`Evidence ${n.evidence.file} collected ${n.evidence.collectedAt} on host ${n.evidence.host}.`];
  if (n.evidence.binarySha256)
    out.push(
      `k3s binary ${n.binary}: K3s ${n.versionText}, sha256 ${n.evidence.binarySha256}${n.evidence.bundleHash ? `, bundle ${n.evidence.bundleHash}` : ''}.`,
    );
  if (n.firstBad) out.push(`The agent first saw something wrong at ${n.firstBad}.`);
  for (const f of n.findings)
    out.push(`Agent finding ${f.id} since ${f.firstSeen}${f.message ? `: ${f.message}` : ''}.`);
  for (const p of n.replacedProcesses) out.push(`Process running a replaced executable: ${p}.`);
  for (const m of n.foreignManifests)
    out.push(
      n.manifestsLocked
        ? `Manifest not reviewed in the lock in force, applied at every start: ${n.manifestsDir}/${m}.`
        : `Manifest K3s does not ship, applied at every start (review it): ${n.manifestsDir}/${m}.`,
    );
  for (const r of n.insecureRegistry) out.push(`Insecure registry setting: ${r}.`);
  if (n.bundleDirs.length > 1) out.push(`${n.bundleDirs.length} extracted bundles in ${n.dataDir}/data.`);
  return out;
}
