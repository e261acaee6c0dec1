// Component search: which nodes run a component (below a version), and where inside which
// binary. A plain GET form (bookmarkable); htmx swaps in the results as the reader types.
import { digest, emptyRow, nodeHref, plural } from '../format.ts';
import { type Html, html } from '../html.ts';
import type { ComponentSearchView } from '../views.ts';

export const COMPONENT_RESULTS_ID = 'component-results';

export function componentsPage(v: ComponentSearchView): Html {
  return html`<h1>Components</h1>
<form class="search" role="search" method="get" action="/components" hx-get="/components" hx-target="#${COMPONENT_RESULTS_ID}" hx-trigger="input changed delay:400ms, submit" hx-push-url="true">
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
  if (!v.hits) return html`<p class="none">Name a component, e.g. github.com/opencontainers/runc below 1.1.12.</p>`;
  const nodes = new Set(v.hits.map((h) => h.node)).size;
  return html`<p class="count">${plural(nodes, 'node')} run${nodes === 1 ? 's' : ''} <code>${v.name}</code>${v.below ? html` below ${v.below}` : ''}</p>
<table>
  <thead><tr><th scope="col">Node</th><th scope="col">Cluster</th><th scope="col">Component</th><th scope="col">Version</th><th scope="col">Where inside</th><th scope="col">Artifact</th></tr></thead>
  <tbody>${
    v.hits.length === 0
      ? emptyRow(6, 'No node runs it.')
      : v.hits.map(
          (h) =>
            html`<tr><th scope="row"><a href="${nodeHref(h.node)}">${h.node}</a></th><td>${h.cluster ?? ''}</td><td>${h.name}</td><td>${h.version}</td><td><code>${h.location}</code></td><td>${digest(h.artifact)}</td></tr>`,
        )
  }</tbody>
</table>`;
}
