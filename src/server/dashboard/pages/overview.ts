// The fleet at a glance: how many nodes and how many stale, open findings by severity, the K3s
// versions in the fleet and drift events per day, each number linking to the list behind it.
import { barChart, dayChart } from '../charts.ts';
import { emptyRow, plural, severity, withQuery } from '../format.ts';
import { type Html, html } from '../html.ts';
import type { OverviewView } from '../views.ts';

export function overviewPage(v: OverviewView): Html {
  const findings = v.bySeverity.reduce((n, s) => n + s.findings, 0);
  return html`<h1>Fleet overview</h1>
<ul class="tiles" aria-label="Summary">
  <li><a class="tile" href="/nodes"><strong>${v.nodes}</strong><span>${v.nodes === 1 ? 'node' : 'nodes'} in ${plural(v.clusters, 'cluster')}</span></a></li>
  <li><div class="tile"><strong>${v.inventories}</strong><span>distinct ${v.inventories === 1 ? 'inventory' : 'inventories'}</span></div></li>
  <li><a class="tile${v.staleNodes > 0 ? ' warn' : ''}" href="/nodes?seen=stale"><strong>${v.staleNodes}</strong><span>stale: no report for ${v.staleAfter}${v.neverReported > 0 ? `; ${v.neverReported} never reported` : ''}</span></a></li>
  <li><a class="tile" href="/nodes?findings=yes"><strong>${findings}</strong><span>open ${findings === 1 ? 'finding' : 'findings'}</span></a></li>
  <li><a class="tile" href="/advisories"><strong>${v.advisories}</strong><span>${v.advisories === 1 ? 'advisory affects' : 'advisories affect'} the fleet</span></a></li>
</ul>
<div class="grid2">
<section aria-labelledby="h-severity">
  <h2 id="h-severity">Open findings by severity</h2>
  <table>
    <thead><tr><th scope="col">Severity</th><th scope="col" class="num">Open findings</th><th scope="col" class="num">Advisories</th></tr></thead>
    <tbody>${
      findings === 0
        ? emptyRow(3, 'No open findings.')
        : v.bySeverity
            .filter((s) => s.findings > 0 || s.advisories > 0)
            .map(
              (s) =>
                html`<tr><th scope="row">${severity(s.severity)}</th><td class="num">${s.findings}</td><td class="num">${s.advisories > 0 ? html`<a href="${withQuery('/advisories', { severity: s.severity })}">${s.advisories}</a>` : '0'}</td></tr>`,
            )
    }</tbody>
  </table>
</section>
<section aria-labelledby="h-versions">
  <h2 id="h-versions">K3s versions</h2>
  ${barChart(
    'chart-k3s-versions',
    'K3s version',
    'Nodes',
    v.k3sVersions.map((k) => ({
      label: k.version ?? 'unknown',
      value: k.nodes,
      ...(k.version ? { href: withQuery('/nodes', { k3s: k.version }) } : {}),
    })),
  )}
</section>
</div>
<section aria-labelledby="h-drift">
  <h2 id="h-drift">Drift events, last ${v.driftDays} days</h2>
  ${dayChart('chart-drift', `Drift events per day, last ${v.driftDays} days`, v.driftSeries, v.drift)}
</section>`;
}
