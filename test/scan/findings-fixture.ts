// Scan findings for the report and VEX tests, built by hand from real records (../shared/data)
// on the K3s-shaped inventory of test/report/inventories.ts, moved to K3s v1.32.1+k3s1 so that
// every record below really applies:
//   - GO-2025-3646 = GHSA-864f-7xjm-2jp2 (K3s 1.32 before 1.32.4-rc1), with the GHSA's CVSS 3.1;
//   - GO-2026-5973 (K3s before 1.33.10), no CVSS;
//   - GO-2025-3528 on the inner k3s's containerd fork (upstream v1.7.23, fixed in 1.7.27);
//   - GO-2025-3956 (os/exec.LookPath, Go before 1.23.12) on the inner k3s's stdlib (present)
//     and on bin/runc's stdlib (absent), the same rule twice;
//   - the inventory's own tampering finding, which is no vulnerability.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Component, Finding, Inventory, Severity, VulnerabilityInfo } from '../../src/model/inventory.ts';
import { walk } from '../../src/model/inventory.ts';
import { goModulePurl } from '../../src/model/purl.ts';
import { SHARED_DATA } from '../fixtures/realbins.ts';
import { k3sInventory } from '../report/inventories.ts';

export const K3S_VERSION = 'v1.32.1+k3s1';

interface Record {
  id: string;
  aliases?: string[];
  summary?: string;
  severity?: Array<{ type: string; score: string }>;
}

function read(dir: string, id: string): Record {
  return JSON.parse(readFileSync(join(SHARED_DATA, dir, `${id}.json`), 'utf8')) as Record;
}

/** k3sInventory() with every trace of its K3s version moved to K3S_VERSION. */
function inventoryAt(version: string): Inventory {
  const inv = structuredClone(k3sInventory());
  for (const { component } of walk(inv.root)) {
    if (component.type === 'file' && component.k3s) {
      component.k3s.version = version;
      component.version = version;
    }
    if (component.type === 'go-module' && component.module.path === 'github.com/k3s-io/k3s') {
      component.version = version;
      component.purl = goModulePurl(component.module.path, version);
    }
  }
  return inv;
}

function find(inv: Inventory, test: (c: Component) => boolean): Component {
  for (const { component } of walk(inv.root)) if (test(component)) return component;
  throw new Error('component missing from the inventory fixture');
}

export interface ScanFixture {
  inventory: Inventory;
  findings: Finding[];
  /** Component refs the findings use, by role. */
  refs: { k3s: string; containerd: string; k3sStdlib: string; runc: string; runcStdlib: string };
}

export function scanFixture(): ScanFixture | { skip: string } {
  if (!existsSync(join(SHARED_DATA, 'govulndb'))) return { skip: `${SHARED_DATA}/govulndb absent (../shared)` };
  const inventory = inventoryAt(K3S_VERSION);
  const inBundle = (path: string) => (c: Component) => c.type === 'file' && c.path === path;
  const innerK3s = find(inventory, inBundle('bin/k3s'));
  const runc = find(inventory, inBundle('bin/runc'));
  const refs = {
    k3s: inventory.root.ref,
    containerd: find(
      inventory,
      (c) =>
        c.type === 'go-module' &&
        c.ref.startsWith(innerK3s.ref) &&
        c.module.path === 'github.com/containerd/containerd',
    ).ref,
    k3sStdlib: find(inventory, (c) => c.type === 'go-stdlib' && c.ref.startsWith(`${innerK3s.ref}#`)).ref,
    runc: runc.ref,
    runcStdlib: find(inventory, (c) => c.type === 'go-stdlib' && c.ref.startsWith(`${runc.ref}#`)).ref,
  };
  const location = (ref: string) => find(inventory, (c) => c.ref === ref).location;
  const finding = (
    r: Record,
    ref: string,
    severity: Severity,
    v: Omit<VulnerabilityInfo, 'ids' | 'summary'>,
  ): Finding => {
    const ids = [...new Set([r.id, ...(r.aliases ?? [])])];
    const summary = r.summary ?? r.id;
    return {
      id: r.id,
      severity,
      title: summary,
      message: `${v.module} ${v.version} is affected by ${ids.join(', ')}${v.fixed ? `; fixed in ${v.fixed}` : ''}.`,
      location: location(ref),
      component: ref,
      vulnerability: { ids, summary, ...v },
    };
  };
  const ghsa = read('ghsa-k3s', 'GHSA-864f-7xjm-2jp2');
  const vector = ghsa.severity?.find((s) => s.type === 'CVSS_V3')?.score ?? '';
  const k3sAdvisory = read('govulndb', 'GO-2025-3646');
  const lookPath = read('govulndb', 'GO-2025-3956');
  const findings: Finding[] = [
    finding(k3sAdvisory, refs.k3s, 'medium', {
      module: 'github.com/k3s-io/k3s',
      version: '1.32.1',
      via: 'k3s',
      fixed: '1.32.4-rc1',
      reachability: 'unknown',
      // The base score of the GHSA's vector (AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:N/A:N), by hand: 6.8.
      cvss: { version: '3.1', vector, score: 6.8 },
    }),
    finding(read('govulndb', 'GO-2026-5973'), refs.k3s, 'unknown', {
      module: 'github.com/k3s-io/k3s',
      version: '1.32.1',
      via: 'k3s',
      fixed: '1.33.10',
      reachability: 'unknown',
    }),
    finding(read('govulndb', 'GO-2025-3528'), refs.containerd, 'unknown', {
      module: 'github.com/containerd/containerd',
      version: '1.7.23',
      via: 'upstream',
      fixed: '1.7.27',
      reachability: 'unknown',
    }),
    finding(lookPath, refs.k3sStdlib, 'unknown', {
      module: 'stdlib',
      version: '1.23.8',
      via: 'stdlib',
      fixed: '1.23.12',
      reachability: 'present',
      symbols: ['os/exec.LookPath'],
    }),
    finding(lookPath, refs.runcStdlib, 'unknown', {
      module: 'stdlib',
      version: '1.23.8',
      via: 'stdlib',
      fixed: '1.23.12',
      reachability: 'absent',
    }),
    ...inventory.findings,
  ];
  return { inventory, findings, refs };
}
