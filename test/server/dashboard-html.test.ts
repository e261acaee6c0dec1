// The dashboard's templates with hostile data: every name, summary, path and version an agent or
// a vulnerability record can choose is given as markup, and none of it may come out as markup.
// The browser test (dashboard-browser.test.ts) does the same through a real server and Chromium.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadAssets } from '../../src/server/dashboard/assets.ts';
import { barChart, dayChart } from '../../src/server/dashboard/charts.ts';
import { componentHref, nodeHref, withQuery } from '../../src/server/dashboard/format.ts';
import { escapeHtml, html } from '../../src/server/dashboard/html.ts';
import { layout } from '../../src/server/dashboard/layout.ts';
import { advisoriesPage, advisoryPage } from '../../src/server/dashboard/pages/advisories.ts';
import { componentsPage } from '../../src/server/dashboard/pages/components.ts';
import { nodePage } from '../../src/server/dashboard/pages/node.ts';
import { nodesPage } from '../../src/server/dashboard/pages/nodes.ts';
import { overviewPage } from '../../src/server/dashboard/pages/overview.ts';

const EVIL = `<script>alert(1)</script>"'><img src=x onerror=alert(2)>&amp;`;
const NOW = new Date('2026-12-03T12:00:00Z');

/** The attribute names of every tag, quoted values left out (what a browser would parse as attributes). */
function attributeNames(text: string): string[] {
  return [...text.matchAll(/<[a-zA-Z][^>]*>/g)].flatMap((m) =>
    [...m[0].replace(/"[^"]*"/g, '""').matchAll(/\s([^\s=>"']+)/g)].map((a) => (a[1] as string).toLowerCase()),
  );
}

/** No markup from the data: only the templates' own tags, and the text escaped. */
function assertInert(text: string): void {
  assert.ok(!text.includes('<script>alert'), 'a <script> from the data');
  assert.ok(!text.includes('<img'), 'an <img> from the data');
  const names = attributeNames(text);
  assert.ok(names.length > 0);
  assert.deepEqual(
    names.filter((n) => n.startsWith('on') || n === 'style' || n === 'src=x'),
    [],
    'an event handler or inline style attribute',
  );
  assert.ok(text.includes('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&gt;&lt;img'), 'the text, escaped');
  assert.ok(text.includes('&amp;amp;'), '& escaped once more');
}

test('html escapes every interpolation, nests its own fragments, renders arrays and skips nothing-values', () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  const inner = html`<b>${EVIL}</b>`;
  const outer = html`<p title="${EVIL}">${inner}${[EVIL, html`<i>${1}</i>`]}${null}${undefined}${false}${0}</p>`;
  assert.ok(outer.text.startsWith('<p title="&lt;script&gt;'));
  assert.ok(outer.text.includes('<b>&lt;script&gt;'));
  assert.ok(outer.text.includes('<i>1</i>'));
  assert.ok(outer.text.endsWith('0</p>'));
  assertInert(outer.text);
});

test('links put a name in one path segment', () => {
  assert.equal(nodeHref('../admin?x=1#y'), '/nodes/..%2Fadmin%3Fx%3D1%23y');
  assert.equal(componentHref('github.com/a b', '1.2'), '/components?name=github.com%2Fa+b&below=1.2');
  assert.equal(withQuery('/nodes', { a: '', b: undefined }), '/nodes');
});

test('every page keeps hostile node names, summaries, versions and paths as text', () => {
  const assets = loadAssets();
  const node = {
    name: EVIL,
    cluster: EVIL,
    k3sVersion: EVIL,
    role: EVIL,
    lastSeenAt: '2026-12-03T11:00:00Z',
    stale: true,
    findings: 2,
    vulnerabilities: 1,
  };
  const pages = [
    overviewPage({
      nodes: 1,
      staleNodes: 1,
      neverReported: 1,
      staleAfter: '24 h',
      clusters: 1,
      inventories: 1,
      advisories: 1,
      k3sVersions: [{ version: EVIL, nodes: 1 }],
      bySeverity: [{ severity: EVIL, findings: 1, advisories: 1 }],
      driftDays: 7,
      driftSeries: [EVIL],
      drift: [{ day: EVIL, values: [1] }],
    }),
    nodesPage(
      { filter: { cluster: EVIL, k3sVersion: EVIL }, k3sVersions: [EVIL], nodes: [node], total: 300, offset: 100 },
      NOW,
    ),
    nodePage(
      {
        node: { ...node, hostname: EVIL, machineId: EVIL, inventoryDigest: EVIL, lastCheckAt: EVIL },
        findings: [
          {
            ruleId: EVIL,
            severity: EVIL,
            title: EVIL,
            advisory: EVIL,
            component: EVIL,
            version: EVIL,
            fixed: EVIL,
            location: EVIL,
            firstSeen: EVIL,
          },
        ],
        inventory: [{ digest: EVIL, kind: EVIL, names: [EVIL], detail: EVIL }],
        components: [{ name: EVIL, version: EVIL, location: EVIL, artifact: EVIL }],
        events: [{ time: EVIL, type: EVIL, status: EVIL, ruleId: EVIL, severity: EVIL }],
        reports: [{ id: EVIL, checkFinishedAt: EVIL, receivedAt: EVIL, findings: 1, inventory: EVIL }],
      },
      NOW,
    ),
    advisoriesPage([
      { id: EVIL, aliases: [EVIL], severity: EVIL, summary: EVIL, nodes: 1, components: [EVIL], fixed: [EVIL] },
    ]),
    advisoryPage({
      id: EVIL,
      aliases: [EVIL],
      severity: EVIL,
      summary: EVIL,
      fixed: [EVIL],
      places: [{ component: EVIL, version: EVIL, location: EVIL, fixed: EVIL, reachability: EVIL, nodes: 1 }],
      affected: [
        {
          node: EVIL,
          cluster: EVIL,
          k3sVersion: EVIL,
          component: EVIL,
          version: EVIL,
          fixed: EVIL,
          location: EVIL,
          reachability: EVIL,
        },
      ],
      total: 2,
    }),
    componentsPage({
      name: EVIL,
      below: EVIL,
      result: {
        hits: [{ node: EVIL, cluster: EVIL, version: EVIL, artifact: EVIL, location: EVIL }],
        total: 1,
        versions: [{ version: EVIL, nodes: 1, matches: true }],
        suggestions: [],
      },
    }),
    componentsPage({
      name: EVIL,
      below: EVIL,
      result: { hits: [], total: 0, versions: [], suggestions: [EVIL] },
    }),
    componentsPage({ name: EVIL, below: EVIL, problem: EVIL }),
    barChart(EVIL, EVIL, EVIL, [{ label: EVIL, value: 1, href: EVIL }]),
    dayChart(EVIL, EVIL, [EVIL], [{ day: EVIL, values: [1] }]),
  ];
  for (const body of pages) {
    const text = layout(
      { title: EVIL, section: 'nodes', body, user: { name: EVIL, role: EVIL }, charts: true },
      assets,
    ).text;
    assertInert(text);
    // The only scripts are the dashboard's files.
    const scripts = [...text.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
    assert.ok(scripts.length >= 1);
    for (const s of scripts) assert.match(s, /^<script src="\/static\/[0-9a-f]{16}\/[\w.]+" defer>$/);
  }
});

test('a severity outside the known ones gets no class of its own', () => {
  const text = overviewPage({
    nodes: 0,
    staleNodes: 0,
    neverReported: 0,
    staleAfter: '24 h',
    clusters: 0,
    inventories: 0,
    advisories: 0,
    k3sVersions: [],
    bySeverity: [{ severity: 'x" onmouseover="alert(1)', findings: 1, advisories: 1 }],
    driftDays: 7,
    driftSeries: ['events'],
    drift: [],
  }).text;
  assert.ok(text.includes('class="sev sev-unknown"'));
});
