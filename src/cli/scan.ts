// `k3sguard scan TARGET`: inventory (everything `inspect` finds, into the bundle), then every
// component matched against the offline OSV database, K3s-aware; reachability from each Go
// binary's function table; OpenVEX suppressions; table, JSON, SARIF or CycloneDX.

import { buildInventory } from '../inventory/build.ts';
import { InputError, isInputError } from '../model/errors.ts';
import { type BinaryInfo, type Component, type Finding, type Severity, walk } from '../model/inventory.ts';
import { quoteControls } from '../model/quote.ts';
import { atLeast } from '../model/severity.ts';
import { readGoFunctionNames } from '../readers/go/functab.ts';
import { renderScanTable } from '../report/scan-table.ts';
import { renderFindings } from '../report/table.ts';
import { filterFindings } from '../scan/filter.ts';
import { matchRecords } from '../scan/match.ts';
import { releaseOf } from '../scan/ospackages.ts';
import { binaryFunctions, binaryOfComponent, type GoFunctionTable, markReachability } from '../scan/reachability.ts';
import { readVexFile } from '../scan/vex.ts';
import { applyVex } from '../scan/vex-apply.ts';
import { openVulnDb } from '../vulndb/db.ts';
import { EXIT_CLEAN, EXIT_FINDINGS } from './exit.ts';
import { type TargetCliOptions, targetBuildOptions } from './options.ts';
import { planOutput } from './output.ts';
import { terminalProgress } from './progress.ts';
import { errorLine, warn } from './stderr.ts';
import { colorWanted } from './terminal.ts';

export interface ScanOptions extends TargetCliOptions {
  db?: string;
  format: 'table' | 'json' | 'sarif' | 'cyclonedx';
  /** Same as `--format json` (the spelling inspect, audit and advisories take): main.ts folds it in. */
  json?: boolean;
  output?: string;
  failOn?: Exclude<Severity, 'info' | 'unknown'>;
  onlyReachable?: boolean;
  severity?: Severity[];
  ignoreUnfixed?: boolean;
  vex?: string;
  progress: boolean;
}

/**
 * Does this finding fail the run? Without --fail-on, every (unsuppressed) finding does. With it,
 * those at or above the level; `unknown` severity (no CVSS in the record) fails only
 * `--fail-on low`: it is a known vulnerability, but its severity is not invented.
 */
function fails(f: Finding, failOn: ScanOptions['failOn']): boolean {
  if (f.vulnerability?.suppressed) return false;
  if (!failOn) return true;
  if (f.severity === 'unknown') return failOn === 'low';
  return atLeast(f.severity, failOn);
}

/** What `--fail-on` left out because the records rate it nowhere: said, never silent. */
function uncountedNote(findings: readonly Finding[], failOn: ScanOptions['failOn']): string | undefined {
  if (!failOn || failOn === 'low') return undefined;
  const n = findings.filter((f) => f.severity === 'unknown' && !f.vulnerability?.suppressed).length;
  if (n === 0) return undefined;
  return (
    `${n} finding${n === 1 ? '' : 's'} of unknown severity (no CVSS or rating in the database's records) ` +
    `${n === 1 ? 'was' : 'were'} not counted by --fail-on ${failOn}; use --fail-on low to count them`
  );
}

/**
 * An image's OS packages are only matched when the database holds their distribution's
 * records; without them a scan would look clean. Say so, once per distribution.
 */
function missingDistroData(root: Component, ecosystems: Record<string, number>): string[] {
  const have = Object.keys(ecosystems).map((e) => e.split(':')[0]);
  const missing = new Set<string>();
  for (const { component: c } of walk(root)) {
    if (c.type !== 'os-package' || !c.distro) continue;
    const base = releaseOf(c.manager, c.distro)?.ecosystems[0]?.split(':')[0];
    if (base && !have.includes(base)) missing.add(base);
  }
  return [...missing].map(
    (e) =>
      `the database has no ${e} records: the image's ${e} packages were not checked; run \`k3sguard db update --ecosystem Go,${e}\``,
  );
}

export async function runScan(target: string, opts: ScanOptions): Promise<number> {
  // Open the database first: no database is a clear error before any work is done.
  const db = openVulnDb(opts.db, { readonly: true });
  try {
    const output = planOutput(opts.output, [target, opts.vex, opts.imagesList, db.path]);
    const vex = opts.vex ? readVexFile(opts.vex) : undefined;
    const progress = terminalProgress(opts.progress);
    // Keyed by the binary's BinaryInfo: an image's files get their components after inspection.
    const tables = new Map<BinaryInfo, GoFunctionTable>();
    const unreadableTables: string[] = [];
    const inv = await buildInventory(target, {
      ...targetBuildOptions(opts, progress),
      // Function tables are read while the binary's bytes are at hand: a bundle member's are
      // dropped once it has been inspected.
      onGoBinary(binary, src) {
        // A corrupt function table costs that binary its reachability, not the scan.
        try {
          const table = readGoFunctionNames(src);
          if (table) tables.set(binary, table);
        } catch (e) {
          if (!isInputError(e)) throw e;
          unreadableTables.push(`${src.name}: ${e.message}: reachability not known`);
        }
      },
    });
    for (const w of unreadableTables) warn(w);
    for (const w of missingDistroData(inv.root, db.status().ecosystems)) warn(w);
    progress.update('matching vulnerabilities');
    // matchRecords asks once per module name; the database answers from its index.
    let vulns = matchRecords(
      inv.root,
      (ecosystem, name) => db.recordsFor(ecosystem, name),
      (ids) => db.recordsOfVulnerability(ids),
    );
    const binaries = binaryOfComponent(inv.root);
    vulns = markReachability(
      vulns,
      (id) => db.record(id),
      (ref) => {
        const file = binaries.get(ref);
        const table = file && tables.get(file.binary);
        return file && table ? binaryFunctions(file, table) : undefined;
      },
    );
    if (vex) vulns = applyVex(vulns, vex, inv.root);
    if (opts.onlyReachable) vulns = vulns.filter((f) => f.vulnerability?.reachability !== 'absent');
    vulns = filterFindings(vulns, {
      ...(opts.severity ? { severities: opts.severity } : {}),
      ...(opts.ignoreUnfixed ? { ignoreUnfixed: true } : {}),
    });
    progress.done();

    const all = [...inv.findings, ...vulns];
    const color = opts.format === 'table' && colorWanted(opts.output);
    let text: string;
    if (opts.format === 'json') {
      text = `${JSON.stringify({ schema: 'k3sguard/scan@1', ...inv, findings: all }, null, 2)}\n`;
    } else if (opts.format === 'sarif') {
      text = (await import('../report/scan-sarif.ts')).toSarifJson(inv, all);
    } else if (opts.format === 'cyclonedx') {
      text = (await import('../report/cyclonedx-vuln.ts')).toCycloneDxVulnerabilityJson(inv, all);
    } else {
      text =
        renderScanTable(inv, vulns, color) + (inv.findings.length ? `\n${renderFindings(inv.findings, color)}` : '');
    }
    output.write(text);
    const status = db.status();
    if (status.stale) warn(status.warnings.join('; '));
    const uncounted = uncountedNote(vulns, opts.failOn);
    if (uncounted) errorLine(uncounted);
    return inv.findings.length > 0 || vulns.some((f) => fails(f, opts.failOn)) ? EXIT_FINDINGS : EXIT_CLEAN;
  } finally {
    db.close();
  }
}

export interface AdvisoriesOptions {
  k3sVersion?: string;
  db?: string;
  json?: boolean;
}

export async function runAdvisories(opts: AdvisoriesOptions): Promise<number> {
  if (!opts.k3sVersion) throw new InputError('USAGE', undefined, 'advisories needs --k3s-version vX.Y.Z+k3sN');
  const { advisoriesFor } = await import('../scan/advisories.ts');
  const db = openVulnDb(opts.db, { readonly: true });
  try {
    const list = advisoriesFor(opts.k3sVersion, (eco, name) => db.recordsFor(eco, name));
    if (opts.json) {
      process.stdout.write(
        `${JSON.stringify({ schema: 'k3sguard/advisories@1', version: opts.k3sVersion, advisories: list }, null, 2)}\n`,
      );
    } else if (list.length === 0) {
      process.stdout.write(`K3s ${opts.k3sVersion}: no known K3s advisory affects it (database: ${db.path})\n`);
    } else {
      const lines = [`K3s ${opts.k3sVersion}: ${list.length} advisor${list.length === 1 ? 'y' : 'ies'}`];
      for (const a of list) {
        const fix = a.fixedOnLine
          ? `fixed on ${a.line} in ${a.fixedOnLine}`
          : a.fixedAbove
            ? `no fix on ${a.line}; fixed in ${a.fixedAbove}`
            : 'no fixed release recorded';
        lines.push(
          `  ${a.severity.toUpperCase().padEnd(8)} ${a.ids.join(', ')}`,
          `           ${a.summary ?? ''}`,
          `           ${fix}`,
        );
      }
      // Ids and summaries are the records' own text: shown quoted (quoteControls).
      process.stdout.write(`${lines.map(quoteControls).join('\n')}\n`);
    }
    return list.length > 0 ? EXIT_FINDINGS : EXIT_CLEAN;
  } finally {
    db.close();
  }
}
