// The login page: a plain form (no script), POSTed to /login, in the dashboard's layout and
// styles. Its fields (name, password, next) and its action are the contract of POST /login.
import { dashboardAssets } from '../dashboard/assets.ts';
import { DASHBOARD_CSP } from '../dashboard/csp.ts';
import { html } from '../dashboard/html.ts';
import { layout } from '../dashboard/layout.ts';

export interface LoginPageOptions {
  /** Shown above the form: why the user is here again (a wrong password, an expired session). */
  readonly message?: string;
  /** Where to go after logging in: a path on this server. */
  readonly next?: string;
  readonly name?: string;
}

/** The page's Content-Security-Policy: the dashboard's (no script on this page, styles from its file, forms only to this server). */
export const LOGIN_PAGE_CSP = DASHBOARD_CSP;

export function loginPage(opts: LoginPageOptions = {}): string {
  const body = html`<div class="login">
<h1>Log in</h1>
${opts.message ? html`<p role="alert" class="error">${opts.message}</p>` : ''}
<form method="post" action="/login">
  <label for="name">User name
    <input id="name" name="name" autocomplete="username" required autofocus value="${opts.name ?? ''}">
  </label>
  <label for="password">Password
    <input id="password" name="password" type="password" autocomplete="current-password" required>
  </label>
  <input type="hidden" name="next" value="${opts.next ?? '/'}">
  <button type="submit">Log in</button>
</form>
</div>`;
  return layout({ title: 'Log in', section: 'login', body }, dashboardAssets()).text;
}
