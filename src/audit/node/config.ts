// /etc/rancher/k3s/config.yaml and its drop-ins, merged as K3s merges them
// (pkg/configfilearg): config.yaml first, then config.yaml.d/*.yaml|*.yml in name order; a
// later key replaces an earlier one, a key ending in `+` appends to it. K3s then puts the
// merged flags before the command line's, so the command line overrides (or adds to lists).
import { isScalar, isSeq, type Node, type Pair } from 'yaml';
import type { SourceRegion } from '../../model/inventory.ts';
import { nodeRule } from '../../model/rules/node.ts';
import { ruleFinding } from '../../model/rules/rule.ts';
import { checkConfigSecrets } from './config-secrets.ts';
import { type NodeContext, normalizeRegistryHost, parseNodeYaml, readNodeText } from './context.ts';
import type { K3sFlag, UnitCommand } from './unit.ts';
import { entriesOf, regionOf, scalarText } from './yamlpos.ts';

export const CONFIG_YAML = '/etc/rancher/k3s/config.yaml';

export interface ConfigFlag {
  name: string;
  values: string[];
  /** Where the value in effect was written (the last assignment, and the `+` appends after it). */
  sites: SourceRegion[];
}

/** The config file a unit names with `--config`/`-c`, else the default. */
export function configPath(units: UnitCommand[]): string {
  for (const u of units) {
    const flag = u.flags.find((f) => f.name === 'config' || f.name === 'c');
    if (flag?.value.startsWith('/')) return flag.value;
  }
  return CONFIG_YAML;
}

/** Read and merge the config file and its drop-ins (and check each one's secrets). */
export function readConfig(ctx: NodeContext, path: string): Map<string, ConfigFlag> {
  const files = [path];
  const dropins = ctx.root.list(`${path}.d`);
  if (dropins.kind === 'problem') ctx.problems.push(dropins.problem);
  if (dropins.kind === 'dir') {
    for (const name of dropins.names) {
      if (!/\.ya?ml$/i.test(name)) continue;
      const where = ctx.root.resolve(`${path}.d/${name}`);
      if (where.kind === 'found' && where.st.isDirectory()) continue;
      files.push(`${path}.d/${name}`);
    }
  }
  const merged = new Map<string, ConfigFlag>();
  for (const f of files) {
    const read = readNodeText(ctx, f);
    if (!read) continue;
    const y = parseNodeYaml(ctx, read.file, read.text);
    const doc = y.docs[0];
    if (!doc || y.errors.length > 0) continue;
    // Each file's secrets against its own mode (config-secrets.ts), while it is parsed.
    checkConfigSecrets(ctx, y, doc.contents, read.st.mode);
    for (const { key, pair } of entriesOf(doc.contents)) {
      const append = key.endsWith('+');
      const name = key.replace(/\+$/, '');
      const values = flagValues(pair.value);
      const site = regionOf(y, pair as Pair<Node, Node | null>);
      const had = merged.get(name);
      if (had && append) merged.set(name, { name, values: [...had.values, ...values], sites: [...had.sites, site] });
      else merged.set(name, { name, values, sites: [site] });
    }
  }
  return merged;
}

// K3s parses config files with gopkg.in/yaml.v2, a YAML 1.1 parser: plain yes/on/y are booleans.
const YAML11_TRUE = /^(?:y|Y|yes|Yes|YES|true|True|TRUE|on|On|ON)$/;
const YAML11_FALSE = /^(?:n|N|no|No|NO|false|False|FALSE|off|Off|OFF)$/;

/** A config value as the flag values K3s makes of it: one per list item, `true` for booleans. */
function flagValues(node: Node | null): string[] {
  if (isSeq(node)) return node.items.flatMap((item) => flagValue(item) ?? []);
  return [flagValue(node) ?? ''];
}

function flagValue(node: unknown): string | undefined {
  const text = scalarText(node);
  if (text === undefined || !isScalar(node) || node.type !== 'PLAIN') return text;
  return YAML11_TRUE.test(text) ? 'true' : YAML11_FALSE.test(text) ? 'false' : text;
}

/** system-default-registry, embedded-registry, and flags set in both places with different values. */
export function checkConfig(ctx: NodeContext, config: Map<string, ConfigFlag>, units: UnitCommand[]): void {
  const sdr = config.get('system-default-registry');
  if (sdr) checkDefaultRegistry(ctx, sdr.values.at(-1) ?? '', sdr.sites.at(-1) as SourceRegion, 'config');
  const er = config.get('embedded-registry');
  if (er && er.values.at(-1) === 'true') embeddedRegistry(ctx, er.sites.at(-1) as SourceRegion);
  for (const unit of units) {
    const byName = new Map<string, K3sFlag[]>();
    for (const f of unit.flags) byName.set(f.name, [...(byName.get(f.name) ?? []), f]);
    for (const [name, flags] of byName) {
      const last = flags.at(-1) as K3sFlag;
      if (name === 'system-default-registry') checkDefaultRegistry(ctx, last.value, last.word.region, unit.unit);
      if (name === 'embedded-registry' && last.value === 'true') embeddedRegistry(ctx, last.word.region);
      const inConfig = config.get(name);
      if (
        !inConfig ||
        sameValues(
          inConfig.values,
          flags.map((f) => f.value),
        )
      )
        continue;
      const site = inConfig.sites.at(-1) as SourceRegion;
      const where = `${unit.file}:${last.word.region.line}`;
      ctx.findings.push(
        ruleFinding(
          nodeRule('K3SG-NODE-CONFIG-FLAG-CONFLICT'),
          `${name} is ${show(inConfig.values)} in the config, but ${unit.unit} passes --${name} ${show(flags.map((f) => f.value))} (${where}), which K3s applies after the config.`,
          site,
        ),
      );
    }
  }
}

function checkDefaultRegistry(ctx: NodeContext, value: string, site: SourceRegion, where: string): void {
  const allowed = ctx.policy?.allowedRegistries;
  if (!allowed || value === '') return;
  const host = normalizeRegistryHost(value.replace(/^[a-z]+:\/\//i, '').split('/')[0] as string);
  if (allowed.includes(host)) return;
  ctx.findings.push(
    ruleFinding(
      nodeRule('K3SG-NODE-CONFIG-DEFAULT-REGISTRY'),
      `system-default-registry (${where}) is ${host}: every K3s system image is pulled from it, and ${ctx.policy?.file} allows only ${allowed.join(', ') || 'nothing'}.`,
      site,
    ),
  );
}

function embeddedRegistry(ctx: NodeContext, site: SourceRegion): void {
  ctx.findings.push(
    ruleFinding(
      nodeRule('K3SG-NODE-CONFIG-EMBEDDED-REGISTRY'),
      'The embedded registry is on: any node able to push into its containerd can serve a poisoned tag to every node; pull images by digest.',
      site,
    ),
  );
}

function sameValues(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function show(values: string[]): string {
  return values.length === 1 ? JSON.stringify(values[0]) : `[${values.map((v) => JSON.stringify(v)).join(', ')}]`;
}
