// The frame of every dashboard page: a skip link to the content, the main navigation (the
// current page marked with aria-current), the component search that is on every page, who is
// logged in and the log-out button, then the page. Scripts load deferred from files: htmx on the
// pages of a logged-in user, the chart library and the script drawing with it only on pages with
// charts; the login page has none.
import type { Assets } from './assets.ts';
import { type Html, html } from './html.ts';

export type Section = 'overview' | 'nodes' | 'advisories' | 'components' | 'login' | 'none';

export interface PageUser {
  readonly name: string;
  readonly role: string;
}

export interface Page {
  readonly title: string;
  readonly section: Section;
  readonly body: Html;
  /** Absent on the login page. */
  readonly user?: PageUser;
  /** Load the chart library (pages with <figure class="chart">). */
  readonly charts?: boolean;
}

const NAV: ReadonlyArray<{ section: Section; href: string; label: string }> = [
  { section: 'overview', href: '/', label: 'Overview' },
  { section: 'nodes', href: '/nodes', label: 'Nodes' },
  { section: 'advisories', href: '/advisories', label: 'Advisories' },
  { section: 'components', href: '/components', label: 'Components' },
];

export function layout(page: Page, assets: Assets): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="htmx-config" content="includeIndicatorCSS:false">
<title>${page.title} · k3sguard</title>
<link rel="icon" href="${assets.url('favicon.svg')}" type="image/svg+xml">
${page.charts ? html`<link rel="stylesheet" href="${assets.url('uPlot.min.css')}">` : ''}
<link rel="stylesheet" href="${assets.url('dashboard.css')}">
${page.user ? html`<script src="${assets.url('htmx.min.js')}" defer></script>` : ''}
${page.charts ? html`<script src="${assets.url('uPlot.iife.min.js')}" defer></script>` : ''}
${page.charts ? html`<script src="${assets.url('dashboard.js')}" defer></script>` : ''}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <a class="brand" href="/">k3sguard <span>fleet</span></a>
  ${page.user ? navigation(page) : ''}
</header>
<main id="main" tabindex="-1">
${page.body}
</main>
</body>
</html>
`;
}

function navigation(page: Page): Html {
  const user = page.user as PageUser;
  return html`<nav aria-label="Main">
    <ul>
      ${NAV.map(
        (n) =>
          html`<li><a href="${n.href}"${n.section === page.section ? html` aria-current="page"` : ''}>${n.label}</a></li>`,
      )}
    </ul>
  </nav>
  <form class="quick-search" role="search" method="get" action="/components">
    <label for="quick-component">Component</label>
    <input id="quick-component" name="name" type="search" placeholder="Go module or package" autocomplete="off" spellcheck="false">
    <button type="submit">Search</button>
  </form>
  <form class="session" method="post" action="/logout">
    <span class="who">${user.name} <small>(${user.role})</small></span>
    <button type="submit">Log out</button>
  </form>`;
}
