// Component search: which nodes run a component (below a version), and where inside which
// binary. A plain GET form (bookmarkable); htmx swaps in the results as the reader types.
import { componentHref, digest, emptyRow, nodeHref, plural } from '../format.ts';
import { type Html, html } from '../html.ts';
import type { ComponentSearchView } from '../views.ts';

export const COMPONENT_RESULTS_ID = 'component-results';

export function componentsPage(v: ComponentSearchView): Html {
  return html`<h1>Components</h1>
<form class="search" role="search" method="get" action="/components" hx-get="/components" hx-target="#${COMPONENT_RESULTS_ID}" hx-trigger="input changed delay:400ms, submit" hx-replace-url="true">
  <label for="component-name">Component (Go module or package)
    <input id="component-name" name="name" type="search" value="${v.name}" placeholder="github.com/opencontainers/runc" autocomplete="off" spellcheck="false" required>
  </label>
  <label for="component-below">Below version (optional)
    <input id="component-below" name="below" value="${v.below}" placeholder="1.1.12" autocomplete="off" spellcheck="false">
  </label>
  <button type="submit">Search</button>
</form>
<div id="${COMPONENT_RESULTS_ID}" aria-live="polite">${componentResults(v)}</div>`;
}

/** The part htmx swaps in. */
export function componentResults(v: ComponentSearchView): Html {
  if (v.problem) return html`<p class="error" role="alert">${v.problem}</p>`;
  const r = v.result;
  if (!r) return html`<p class="none">Name a component, e.g. github.com/opencontainers/runc below 1.1.12.</p>`;
  if (r.versions.length === 0) {
    return html`<p>No component is named <code>${v.name}</code>.</p>${
      r.suggestions.length
        ? html`<p>Components whose name contains it:</p><ul class="suggestions">${r.suggestions.map(
            (s) => html`<li><a href="${componentHref(s, v.below)}">${s}</a></li>`,
          )}</ul>`
        : ''
    }`;
  }
  const nodes = new Set(r.hits.map((h) => h.node)).size;
  return html`<p class="count">${plural(r.total, 'place')} on ${r.hits.length < r.total ? 'at least ' : ''}${plural(nodes, 'node')}: <code>${v.name}</code>${v.below ? html` below ${v.below}` : ''}</p>
<table>
  <thead><tr><th scope="col">Node</th><th scope="col">Cluster</th><th scope="col">Version</th><th scope="col">Where inside</th><th scope="col">Artifact</th></tr></thead>
  <tbody>${
    r.hits.length === 0
      ? emptyRow(5, v.below ? 'No node runs it below that version.' : 'No node runs it.')
      : r.hits.map(
          (h) =>
            html`<tr><th scope="row"><a href="${nodeHref(h.node)}">${h.node}</a></th><td>${h.cluster ?? ''}</td><td>${h.version}</td><td><code>${h.location || '(the artifact itself)'}</code></td><td>${digest(h.artifact)}</td></tr>`,
        )
  }</tbody>
</table>
<h2 id="h-versions">Versions in the fleet</h2>
<table>
  <thead><tr><th scope="col">Version</th><th scope="col" class="num">Nodes</th>${v.below ? html`<th scope="col">Below ${v.below}</th>` : ''}</tr></thead>
  <tbody>${r.versions.map(
    (x) =>
      html`<tr><td>${x.version}</td><td class="num">${x.nodes}</td>${v.below ? html`<td>${x.matches ? 'yes' : 'no'}</td>` : ''}</tr>`,
  )}</tbody>
</table>`;
}
