// A chart is a figure holding its data as a plain table; assets/dashboard.js reads the table and
// draws the chart (uPlot) above it. The table is what keyboard and screen-reader users read, what
// is there without script, and the only copy of the numbers: the chart cannot say something the
// table does not.
import { type Html, type HtmlValue, html } from './html.ts';

export interface Bar {
  readonly label: string;
  readonly value: number;
  /** Where the row's label links to. */
  readonly href?: string;
}

/** Counts per category (e.g. nodes per K3s version), drawn as bars. */
export function barChart(id: string, title: string, valueName: string, bars: readonly Bar[]): Html {
  return figure(
    id,
    title,
    'bars',
    html`<thead><tr><th scope="col">${title}</th><th scope="col">${valueName}</th></tr></thead>
    <tbody>${bars.map(
      (b) =>
        html`<tr><th scope="row">${b.href ? html`<a href="${b.href}">${b.label}</a>` : b.label}</th><td>${b.value}</td></tr>`,
    )}</tbody>`,
    bars.length === 0,
  );
}

export interface Day {
  /** YYYY-MM-DD (UTC). */
  readonly day: string;
  /** One count per series, in the order of the series names. */
  readonly values: readonly number[];
}

/** Counts per day in one or more series (e.g. drift events new and resolved), drawn as lines. */
export function dayChart(id: string, title: string, series: readonly string[], days: readonly Day[]): Html {
  return figure(
    id,
    title,
    'days',
    html`<thead><tr><th scope="col">Day (UTC)</th>${series.map((s) => html`<th scope="col">${s}</th>`)}</tr></thead>
    <tbody>${days.map(
      (d) =>
        html`<tr><th scope="row"><time datetime="${d.day}">${d.day}</time></th>${d.values.map((v) => html`<td>${v}</td>`)}</tr>`,
    )}</tbody>`,
    days.length === 0,
  );
}

function figure(id: string, title: string, kind: 'bars' | 'days', table: HtmlValue, empty: boolean): Html {
  if (empty) return html`<p class="none">No data yet.</p>`;
  return html`<figure class="chart" id="${id}">
    <div class="plot" aria-hidden="true"></div>
    <figcaption>${title}</figcaption>
    <details${kind === 'bars' ? html` open` : ''}>
      <summary>Data table</summary>
      <table class="chart-data" data-chart="${kind}">${table}</table>
    </details>
  </figure>`;
}
