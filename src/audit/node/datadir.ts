// /var/lib/rancher/k3s/data: K3s extracts its bundle to data/<hash>, checks it once, and runs
// containerd, runc and the CNI plugins from data/current ever after. Here: data/current must
// be the bundle of the installed binary, and that directory must still match its own
// bin/.sha256sums and bin/.links (the inspect code's data dir reader, findings re-filed as
// node findings so they carry the node audit's rule and region).
import { basename, dirname } from 'node:path';
import { isInputError } from '../../model/errors.ts';
import { nodeRule } from '../../model/rules/node.ts';
import { fileFinding } from '../../model/rules/rule.ts';
import { readDataDir } from '../../readers/datadir.ts';
import type { InstalledBinary } from './binary.ts';
import type { NodeContext } from './context.ts';
import { relName } from './rootfs.ts';

export const DATA_DIR = '/var/lib/rancher/k3s/data';
const CURRENT = `${DATA_DIR}/current`;

export async function checkDataDir(ctx: NodeContext, binary: InstalledBinary | undefined): Promise<void> {
  const where = ctx.root.resolve(CURRENT);
  if (where.kind === 'problem') ctx.problems.push(where.problem);
  if (where.kind !== 'found') return;
  const current = relName(CURRENT);
  if (!where.st.isDirectory()) {
    ctx.problems.push({ file: current, kind: 'unreadable', message: 'is not a directory' });
    return;
  }
  const shown = `/${where.rel}`;
  if (dirname(where.rel) !== relName(DATA_DIR)) {
    // K3s points data/current at a data/<hash> it extracted. Anywhere else (`/`, /etc, a
    // folder of the attacker's) is not a data dir: neither read as one (`/` would mean the
    // whole root) nor to be deleted, which is what the data dir remedy says.
    ctx.findings.push(
      fileFinding(
        nodeRule('K3SG-NODE-DATA-CURRENT'),
        `${CURRENT} points at ${shown}, not at an extracted bundle (${DATA_DIR}/<hash>): K3s would run containerd, runc and the CNI plugins from there. Do not delete ${shown}: remove the data/current link, then restart K3s from a verified binary so it extracts its bundle and points data/current at it.`,
        current,
      ),
    );
    return;
  }
  const name = basename(where.rel);
  if (binary?.bundleHash && name !== binary.bundleHash) {
    ctx.findings.push(
      fileFinding(
        nodeRule('K3SG-NODE-DATA-CURRENT'),
        `${CURRENT} is ${shown}, but the installed /${binary.file}${binary.version ? ` (K3s ${binary.version})` : ''} carries the bundle ${binary.bundleHash}: what runs from data/current did not come from that binary.`,
        current,
      ),
    );
  }
  let scan: Awaited<ReturnType<typeof readDataDir>>;
  try {
    scan = await readDataDir(where.host, { displayName: shown, location: [where.rel] });
  } catch (e) {
    if (!isInputError(e)) throw e;
    ctx.problems.push({ file: where.rel, kind: 'unreadable', message: e.message });
    return;
  }
  ctx.audited.add(where.rel);
  const rule = nodeRule('K3SG-NODE-DATA-MODIFIED');
  for (const f of scan.findings) {
    const member = f.location.length > 1 ? f.location.at(-1) : undefined;
    const file = member ? `${where.rel}/${member}` : where.rel;
    ctx.findings.push(
      fileFinding(rule, `${f.title} (${f.id}): ${f.message}`, file, [where.rel, ...(member ? [member] : [])]),
    );
  }
}
