// `ir playbook`: a response plan for one node, in the order NIST SP 800-61r3 frames response
// (Detect, Respond, Recover), as issue 16 lists the steps: contain without touching the node,
// keep the evidence before anything on the node changes, eradicate, rotate what the attacker may
// hold, recover from before the first bad evidence, verify, report. Every command is filled in
// with the node's own paths; a K3s command is offered only when the node's release has it
// (k3s-commands.ts), saying which release introduced it, and otherwise what to do instead.
import { formatK3sRelease } from '../versions/k3sversion.ts';
import { availability, COMMAND_FACTS, type CommandId } from './k3s-commands.ts';
import type { Playbook, PlaybookCommand, PlaybookStep, StepContext, StepSpec } from './playbook-model.ts';
import type { PlaybookNode } from './playbook-node.ts';
import { recoverPhases } from './playbook-recover.ts';
import { respondPhases } from './playbook-respond.ts';

export type { Playbook, PlaybookCommand, PlaybookPhase, PlaybookStep } from './playbook-model.ts';
export { sh } from './playbook-model.ts';

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
  const nsList = n.namespaces.filter((x) => x !== 'kube-system');
  const ctx: StepContext = {
    n,
    step,
    server,
    onServer: server ? 'this node (a server)' : 'a server node of the cluster',
    ev: n.evidence ? n.evidence.file : '<LAST-EVIDENCE>.tar.zst',
    firstBad: n.firstBad ?? '<FIRST-BAD-TIME>',
    namespaces: nsList.length > 0 ? nsList : ['<NAMESPACE>'],
  };
  return { node: n, shows: shows(n), phases: [...respondPhases(ctx), ...recoverPhases(ctx)] };
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
