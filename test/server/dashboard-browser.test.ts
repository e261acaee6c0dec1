// The dashboard in a real Chromium (Debian's, driven by playwright-core), on SQLite and on
// PostgreSQL: a real `k3sguard server` process with a fleet sent through its ingest API
// (dashboard-seed.ts: real reports as several nodes, and a real `k3sguard agent` process
// delivering its own), matched by the server's monitor against a one-advisory vulnerability
// database, and a user made with `server user create`. The browser logs in, visits every
// page, filters the nodes, searches a component from the header and follows a hit to its node,
// follows an open finding to its node, checks both charts are drawn, reads the pages in dark mode,
// moves by keyboard, and logs out; nothing may log a console error, fail a request, answer an
// error or open a dialog (the hostile names would). Full-page screenshots go under
// test-output/screenshots/<database>/; their paths are printed as diagnostics.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { k3sguard, tempDir } from '../cli/run.ts';
import { chromiumSkip, openBrowser } from './browser.ts';
import {
  ADVISORY,
  AGENT_NODE,
  advisoryDb,
  FLEET,
  HOSTILE,
  OLDER_K3S,
  seedFleet,
  startRealAgent,
} from './dashboard-seed.ts';
import { freshDatabase, KINDS, postgresSkip, realReport } from './fixtures.ts';
import { startServerProcess } from './server-process.ts';

const USER = 'ops';
const PASSWORD = 'correct horse battery staple';

// What runs in the page is given as text: the test's TypeScript has no DOM types.

/** Each chart's canvas: its size, and how many of its pixels were painted. */
async function chartPixels(page: Page): Promise<Array<{ id: string; width: number; height: number; painted: number }>> {
  return page.evaluate(`[...document.querySelectorAll('figure.chart')].map((f) => {
    const canvas = f.querySelector('canvas');
    if (!canvas) return { id: f.id, width: 0, height: 0, painted: 0 };
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
    const box = canvas.getBoundingClientRect();
    return { id: f.id, width: box.width, height: box.height, painted };
  })`);
}

/** Relative luminance of the page's background (0 black .. 1 white). */
async function backgroundLuminance(page: Page): Promise<number> {
  const rgb = await page.evaluate<string>('getComputedStyle(document.documentElement).backgroundColor');
  const [r, g, b] = (rgb.match(/\d+(\.\d+)?/g) ?? []).map(Number).map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * (r ?? 0) + 0.7152 * (g ?? 0) + 0.0722 * (b ?? 0);
}

/**
 * Waits until `expression` is true in the page, looking every 100 ms for at most 30 s. Not
 * page.waitForFunction: its polling evaluates the text inside the page, which the dashboard's
 * CSP (no eval) forbids, rightly.
 */
async function until(page: Page, expression: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await page.evaluate<boolean>(expression)) return;
    await page.waitForTimeout(100);
  }
  assert.fail(`still not true after 30 s: ${expression}`);
}

const focusedMatches = (page: Page, selector: string) =>
  page.evaluate<boolean>(`document.activeElement?.matches(${JSON.stringify(selector)}) ?? false`);

/** Presses Tab until the focused element matches `selector` (at most `max` times); whether it got there. */
async function tabUntil(page: Page, selector: string, max = 40): Promise<boolean> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await focusedMatches(page, selector)) return true;
  }
  return false;
}

const rows = (page: Page, within: string) => page.locator(`${within} tbody tr`);

for (const kind of KINDS) {
  const skip = chromiumSkip() ?? (kind === 'postgres' ? postgresSkip() : undefined);
  describe(`dashboard in Chromium on ${kind}`, { skip: skip ?? false }, () => {
    test('log in, every page, filters, component search, finding to node, charts, dark mode, keyboard', async (t) => {
      const made = await realReport();
      if ('skip' in made) return t.skip(made.skip);
      const fresh = await freshDatabase(kind);
      const dir = tempDir(t);
      const passwordFile = join(dir, 'password');
      writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
      const user = k3sguard([
        'server',
        'user',
        'create',
        '--name',
        USER,
        '--role',
        'viewer',
        '--password-file',
        passwordFile,
        '--db',
        fresh.text,
      ]);
      assert.equal(user.code, 0, user.stderr);

      const server = await startServerProcess(['--db', fresh.text, '--vuln-db', advisoryDb(dir)]);
      t.after(() => server.stop());
      await seedFleet(fresh.text, server.url, made.report);
      const agent = await startRealAgent(fresh.text, server.url, dir);
      if ('skip' in agent) return t.skip(agent.skip);
      t.after(() => agent.stop());
      const nodes = FLEET.length + 1;
      /** The nodes with a report: every one but the silent one. */
      const reported = [...FLEET.filter((n) => !n.silent).map((n) => n.name), AGENT_NODE].sort();

      const b = await openBrowser(kind);
      t.after(() => b.close());
      const { page } = b;
      const shots: string[] = [];
      const url = (path: string) => `${server.url}${path}`;

      // Not logged in: every page sends the browser to the login page, which brings it back; the
      // static files (no fleet data in them) need no login.
      for (const path of ['/', '/nodes', '/nodes/edge-1', '/advisories', '/advisories/X', '/components?name=x']) {
        const res = await fetch(url(path), { redirect: 'manual' });
        assert.equal(res.status, 303, path);
        assert.equal(res.headers.get('location'), `/login?next=${encodeURIComponent(path)}`);
      }
      await page.goto(url('/nodes'));
      assert.equal(new URL(page.url()).pathname, '/login');
      assert.equal(new URL(page.url()).searchParams.get('next'), '/nodes');
      shots.push(await b.screenshot('login'));
      await page.getByLabel('User name').fill(USER);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL(url('/nodes'));

      // The real agent's report is there once it delivered it (at once; bounded).
      for (let i = 0; i < 300; i++) {
        await page.goto(url(`/nodes/${AGENT_NODE}`));
        if ((await page.locator('[aria-labelledby="h-reports"] tbody').textContent()) !== 'No report yet.') break;
        await page.waitForTimeout(100);
      }
      assert.equal(await rows(page, '[aria-labelledby="h-reports"]').count(), 1, 'the agent delivered its report');
      assert.ok((await rows(page, '[aria-labelledby="h-events"]').count()) >= 1, 'and its events');

      // Overview: the numbers, both charts drawn (a canvas of non-zero size with painted pixels).
      await page.goto(url('/'));
      assert.equal(await page.locator('h1').textContent(), 'Fleet overview');
      assert.equal(await page.locator('.tile strong').first().textContent(), String(nodes));
      await until(page, "document.querySelectorAll('figure.chart canvas').length === 2");
      const charts = await chartPixels(page);
      assert.deepEqual(
        charts.map((c) => c.id),
        ['chart-k3s-versions', 'chart-drift'],
      );
      for (const c of charts) {
        assert.ok(c.width > 100 && c.height > 100, `${c.id} has a size: ${JSON.stringify(c)}`);
        assert.ok(c.painted > 1000, `${c.id} is drawn: ${JSON.stringify(c)}`);
      }
      const versionRows = await page.locator('#chart-k3s-versions tbody tr').allTextContents();
      assert.ok(
        versionRows.some((r) => r.includes(OLDER_K3S)),
        versionRows.join('|'),
      );
      shots.push(await b.screenshot('overview'));

      // Nodes: all of them, then filtered (htmx swaps the results; the URL follows).
      await page.goto(url('/nodes'));
      assert.equal(await rows(page, '#node-results').count(), nodes);
      assert.equal(await page.getByText(HOSTILE).count(), 1, 'the hostile cluster name shows as text');
      await Promise.all([
        page.waitForResponse((r) => r.url().includes('/nodes?') && r.request().headers()['hx-request'] === 'true'),
        page.getByLabel('K3s version').selectOption(OLDER_K3S),
      ]);
      await until(page, "document.querySelectorAll('#node-results tbody tr').length === 1");
      assert.match(page.url(), /[?&]k3s=v1\.30\.8%2Bk3s1/);
      assert.equal(await rows(page, '#node-results').first().locator('th a').textContent(), 'edge-3');
      shots.push(await b.screenshot('nodes-filtered'));
      // Back: the whole list again (htmx restores the page it pushed from).
      await page.goBack();
      await until(page, `document.querySelectorAll('#node-results tbody tr').length === ${nodes}`);
      await page.goto(url('/nodes?seen=stale'));
      assert.deepEqual(await page.locator('#node-results tbody th a').allTextContents(), ['quiet-1'], 'never reported');

      // A node's page: identity, findings, inventory with the components inside the K3s binary,
      // drift events and report history. The hostile hostname is text.
      await page.goto(url('/nodes'));
      await page.getByRole('link', { name: 'store-1' }).click();
      await page.waitForURL(url('/nodes/store-1'));
      for (const h of ['Findings', 'Inventory', 'Components', 'Drift events', 'Report history']) {
        assert.equal(await page.getByRole('heading', { name: new RegExp(`^${h}`) }).count(), 1, h);
      }
      assert.equal(await page.locator('dl.facts dd', { hasText: HOSTILE }).count(), 2, 'cluster and hostname as text');
      assert.ok((await rows(page, '[aria-labelledby="h-reports"]').count()) >= 1);
      assert.ok((await rows(page, '[aria-labelledby="h-events"]').count()) >= 6);
      shots.push(await b.screenshot('node'));

      // Component search from the header: the K3s module, below a version only the older build is under.
      await page.getByLabel('Component', { exact: true }).fill('github.com/k3s-io/k3s');
      await page.getByLabel('Component', { exact: true }).press('Enter');
      await page.waitForURL(/\/components\?name=github\.com%2Fk3s-io%2Fk3s$/);
      const hitNodes = new Set(await page.locator('#component-results tbody tr th a').allTextContents());
      assert.deepEqual([...hitNodes].sort(), reported);
      await Promise.all([
        page.waitForResponse((r) => r.url().includes('below=') && r.request().headers()['hx-request'] === 'true'),
        page.getByLabel('Below version').fill('v1.31.0'),
      ]);
      await until(
        page,
        "new Set([...document.querySelectorAll('#component-results tbody tr th a')].map((a) => a.textContent)).size === 1",
      );
      shots.push(await b.screenshot('components'));
      await page.locator('#component-results tbody tr th a').first().click();
      await page.waitForURL(url('/nodes/edge-3'));
      assert.equal(await page.locator('h1').textContent(), 'edge-3');

      // An open finding, from the overview to a node that has it.
      await page.goto(url('/'));
      await page.locator('a.tile', { hasText: 'open finding' }).click();
      await page.waitForURL(url('/nodes?findings=yes'));
      assert.equal(await rows(page, '#node-results').count(), reported.length);
      await rows(page, '#node-results').first().locator('th a').click();
      await page.waitForURL(url(`/nodes/${reported[0]}`));
      const finding = made.report.findings[0] as { finding: { id: string } };
      assert.equal(
        await page.locator('[aria-labelledby="h-findings"] tbody code', { hasText: finding.finding.id }).count(),
        1,
      );

      // Advisories: the server's monitor matched the inventories with the test's vulnerability
      // database; the list names the advisory, its page says what to upgrade to and who is
      // affected, and a finding on it leads to a node.
      for (let i = 0; i < 300; i++) {
        await page.goto(url('/advisories'));
        if ((await page.getByRole('link', { name: ADVISORY.id }).count()) > 0) break;
        await page.waitForTimeout(100); // bounded: the monitor looks for work every second
      }
      shots.push(await b.screenshot('advisories'));
      await page.getByRole('link', { name: ADVISORY.id }).click();
      await page.waitForURL(url(`/advisories/${ADVISORY.id}`));
      shots.push(await b.screenshot('advisory'));
      const upgrade = await page.locator('[aria-labelledby="h-upgrade"] tbody tr').first().textContent();
      assert.match(
        upgrade ?? '',
        new RegExp(`${ADVISORY.module}.*0\\.9\\.1.*${ADVISORY.fixed.replaceAll('.', '\\.')}`, 's'),
      );
      const affected = await page.locator('[aria-labelledby="h-affected"] tbody th a').allTextContents();
      assert.deepEqual(affected.sort(), reported, 'every node that reported runs it');
      assert.equal(await page.getByText('<b>bold</b>').count(), 1, 'the summary is text');
      await page.goto(url(`/advisories/${ADVISORY.alias}`));
      assert.equal(await page.locator('h1').textContent(), ADVISORY.alias, 'found by its alias too');
      await page.getByRole('link', { name: 'edge-2' }).click();
      await page.waitForURL(url('/nodes/edge-2'));
      await page.locator('[aria-labelledby="h-findings"]').getByRole('link', { name: ADVISORY.id }).click();
      await page.waitForURL(url(`/advisories/${ADVISORY.id}`));

      // A node whose token exists but that never reported: its page says so.
      await page.goto(url('/nodes/quiet-1'));
      assert.equal(await page.locator('[aria-labelledby="h-reports"] tbody').textContent(), 'No report yet.');

      // An unknown node is a page saying so, with a 404 (which the browser logs: taken off the problems).
      const before = b.problems.length;
      const missing = await page.goto(url('/nodes/no-such-node'));
      assert.equal(missing?.status(), 404);
      assert.equal(await page.locator('h1').textContent(), 'No such node');
      assert.ok(b.problems.slice(before).every((p) => p.includes('404')));
      b.problems.splice(before);

      // Keyboard: the skip link first, then the header's search, then a link in the page.
      await page.goto(url('/'));
      await page.keyboard.press('Tab');
      assert.ok(await focusedMatches(page, 'a.skip'), 'Tab first reaches the skip link');
      await page.keyboard.press('Enter');
      assert.ok(await focusedMatches(page, 'main'), 'the skip link moves the focus to the content');
      await page.goto(url('/'));
      assert.ok(await tabUntil(page, '#quick-component'), 'Tab reaches the component search');
      await page.keyboard.type('github.com/k3s-io/k3s');
      await page.keyboard.press('Enter');
      await page.waitForURL(/\/components\?name=/);
      assert.ok(await tabUntil(page, '#component-results a'), 'Tab reaches a result link');
      const focused = await page.evaluate<string>('document.activeElement.href');
      const outline = await page.evaluate<string>('getComputedStyle(document.activeElement).outlineStyle');
      assert.notEqual(outline, 'none', 'the focused link shows it');
      await page.keyboard.press('Enter');
      await page.waitForURL(focused);

      // Dark mode: the colours follow the reader's preference, the charts are drawn again.
      assert.ok((await backgroundLuminance(page)) > 0.8, 'light by default');
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.goto(url('/'));
      assert.ok((await backgroundLuminance(page)) < 0.05, 'dark when asked');
      await until(page, "document.querySelectorAll('figure.chart canvas').length === 2");
      for (const c of await chartPixels(page)) assert.ok(c.painted > 1000, `${c.id} drawn in dark mode`);
      shots.push(await b.screenshot('overview-dark'));
      await page.goto(url('/nodes/edge-1'));
      shots.push(await b.screenshot('node-dark'));
      await page.emulateMedia({ colorScheme: 'light' });

      // The headers: a CSP without inline script on pages, files cached for a year.
      const pageAnswer = await page.request.get(url('/'));
      assert.match(pageAnswer.headers()['content-security-policy'] ?? '', /script-src 'self'(;|$)/);
      const css = await page.locator('link[rel="stylesheet"]').last().getAttribute('href');
      const file = await page.request.get(url(css as string));
      assert.equal(file.headers()['cache-control'], 'public, max-age=31536000, immutable');

      // A version that is not one is said so (400), on the page and in the part htmx asks for.
      for (const headers of [{}, { 'hx-request': 'true' }] as Array<Record<string, string>>) {
        const bad = await page.request.get(url('/components?name=github.com%2Fk3s-io%2Fk3s&below=%3Cb%3Enope'), {
          headers,
        });
        assert.equal(bad.status(), 400);
        const text = await bad.text();
        assert.match(text, /role="alert">Below version: “&lt;b&gt;nope” is not a Go version/);
        assert.equal(text.includes('<!doctype html>'), !('hx-request' in headers));
      }

      // Log out: the session ends, pages ask for the login again.
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.waitForURL(/\/login$/);
      await page.goto(url('/'));
      assert.equal(new URL(page.url()).pathname, '/login');

      for (const s of shots) t.diagnostic(`screenshot: ${s}`);
      assert.deepEqual(b.problems, [], 'no console error, failed request, error answer or dialog');
    });
  });
}
