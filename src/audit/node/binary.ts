// The installed k3s binary: who can replace it, whether its digest was reviewed (the lock),
// whether its embedded bundle is what its name says, and whether the service runs it at all.
// One pass over the file gives its sha256, its version and the bundle (examineBinary).
import { lstatSync } from 'node:fs';
import { dirname } from 'node:path';
import { type BinaryExamination, examineBinary } from '../../inventory/binary-facts.ts';
import { isInputError } from '../../model/errors.ts';
import { nodeRule } from '../../model/rules/node.ts';
import { fileFinding, ruleFinding } from '../../model/rules/rule.ts';
import type { NodeContext } from './context.ts';
import { lockStatus } from './locked.ts';
import { relName } from './rootfs.ts';
import type { UnitCommand } from './unit.ts';

export const K3S_BINARY = '/usr/local/bin/k3s';

export interface InstalledBinary {
  /** As named (`usr/local/bin/k3s`) and as resolved inside the root. */
  file: string;
  rel: string;
  sha256: string;
  /** The name of its embedded bundle: the data/<hash> K3s extracts it to (even if the bytes do not match). */
  bundleHash?: string;
  version?: string;
}

export function checkBinary(ctx: NodeContext): InstalledBinary | undefined {
  const file = relName(K3S_BINARY);
  const where = ctx.root.resolve(K3S_BINARY);
  if (where.kind === 'problem') ctx.problems.push(where.problem);
  if (where.kind !== 'found') return undefined;
  if (!where.st.isFile()) {
    ctx.problems.push({ file, kind: 'unreadable', message: 'is not a regular file' });
    return undefined;
  }
  checkWritable(ctx, file, where.rel, where.st);
  let examined: BinaryExamination;
  try {
    examined = examineBinary(where.host, K3S_BINARY, [file]);
  } catch (e) {
    const why = isInputError(e) ? e.message : ((e as NodeJS.ErrnoException).code ?? String(e));
    ctx.problems.push({ file, kind: 'unreadable', message: `cannot read (${why})` });
    return undefined;
  }
  const scan = examined.bundle;
  ctx.audited.add(file);
  const binary: InstalledBinary = { file, rel: where.rel, sha256: scan.sha256 };
  // The version only names the binary in messages; the checks below do not need it.
  const version = examined.facts.k3s?.version;
  if (version) binary.version = version;
  const named = binary.version ? `${K3S_BINARY} (K3s ${binary.version})` : K3S_BINARY;
  if (ctx.lock) {
    const status = lockStatus(ctx.lock, ctx.lockName, 'k3s', scan.sha256);
    if (status.kind === 'not-locked')
      ctx.findings.push(fileFinding(nodeRule('K3SG-NODE-BINARY-UNLOCKED'), `${named}: ${status.why}.`, file));
  }
  const declared = scan.bundle?.declaredHash ?? scan.declaredHashes[0];
  if (declared) binary.bundleHash = declared;
  const bundleRule = nodeRule('K3SG-NODE-BINARY-BUNDLE');
  if (scan.declaredHashes.length === 0) {
    ctx.findings.push(
      fileFinding(bundleRule, `${named} embeds no <sha256>.tar.zst bundle: it is not a K3s binary.`, file),
    );
  } else if (!scan.bundle) {
    ctx.findings.push(
      fileFinding(
        bundleRule,
        `${named} names the bundle ${scan.declaredHashes[0]} but holds no zstd frame with that hash.`,
        file,
      ),
    );
  } else if (!scan.bundle.hashMatches) {
    ctx.findings.push(
      fileFinding(
        bundleRule,
        `${named} names its bundle ${scan.bundle.declaredHash}, but the embedded bytes hash to ${scan.bundle.sha256}.`,
        file,
      ),
    );
  }
  return binary;
}

/** The binary and the directory it is in: owned by root, not writable by group or others. */
function checkWritable(ctx: NodeContext, file: string, rel: string, st: { uid: number; mode: number }): void {
  const reasons: string[] = [];
  const describe = (what: string, s: { uid: number; mode: number }): void => {
    if (s.uid !== ctx.rootUid) reasons.push(`${what} is owned by uid ${s.uid}, not root`);
    const w = s.mode & 0o022;
    if (w !== 0) {
      const who = (w & 0o002) !== 0 ? 'every user' : 'its group';
      reasons.push(`${what} is writable by ${who} (mode 0${(s.mode & 0o7777).toString(8)})`);
    }
  };
  describe(rel === file ? 'it' : `it (/${rel})`, st);
  const dir = dirname(rel);
  try {
    describe(`its directory /${dir === '.' ? '' : dir}`, lstatSync(ctx.root.host(dir === '.' ? '' : dir)));
  } catch {
    // The directory was just listed through; a race here leaves only the file's own check.
  }
  if (reasons.length === 0) return;
  ctx.findings.push(
    fileFinding(
      nodeRule('K3SG-NODE-BINARY-WRITABLE'),
      `${K3S_BINARY}: ${reasons.join('; ')}. K3s runs it as root.`,
      file,
    ),
  );
}

/** Each unit's ExecStart must run the binary that was audited. */
export function checkExecStart(ctx: NodeContext, units: UnitCommand[], binary: InstalledBinary | undefined): void {
  for (const unit of units) {
    const exec = unit.exec.text;
    const where = exec.startsWith('/') ? ctx.root.resolve(exec) : undefined;
    const runs = where?.kind === 'found' ? where.rel : undefined;
    const audited = binary?.rel ?? relName(K3S_BINARY);
    if (runs === audited || (runs === undefined && relName(exec) === audited)) continue;
    const resolved = runs !== undefined && runs !== relName(exec) ? ` (which is /${runs})` : '';
    ctx.findings.push(
      ruleFinding(
        nodeRule('K3SG-NODE-UNIT-EXECSTART'),
        `${unit.unit} runs ${exec}${resolved}, not ${K3S_BINARY}${binary ? '' : ' (which is not there)'}: the audited binary is not the one that starts.`,
        unit.exec.region,
      ),
    );
  }
}
