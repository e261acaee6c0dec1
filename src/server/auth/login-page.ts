// The login page: a plain form (no script), POSTed to /login. The dashboard may restyle it; its
// fields (name, password, next) and its action are the contract of POST /login.
import { escapeHtml } from '../html.ts';

export interface LoginPageOptions {
  /** Shown above the form: why the user is here again (a wrong password, an expired session). */
  readonly message?: string;
  /** Where to go after logging in: a path on this server. */
  readonly next?: string;
  readonly name?: string;
}

/** The page's Content-Security-Policy: no script at all, forms only to this server. */
export const LOGIN_PAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";

export function loginPage(opts: LoginPageOptions = {}): string {
  const message = opts.message ? `<p role="alert" class="message">${escapeHtml(opts.message)}</p>` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>k3sguard: log in</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 22rem; margin: 4rem auto; padding: 0 1rem; }
label, input, button { display: block; width: 100%; box-sizing: border-box; }
input { margin: 0.25rem 0 1rem; padding: 0.5rem; font: inherit; }
button { padding: 0.5rem; font: inherit; }
.message { border-left: 4px solid #c33; padding-left: 0.5rem; }
</style>
</head>
<body>
<main>
<h1>k3sguard</h1>
${message}
<form method="post" action="/login">
<label for="name">User name</label>
<input id="name" name="name" autocomplete="username" required autofocus value="${escapeHtml(opts.name ?? '')}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<input type="hidden" name="next" value="${escapeHtml(opts.next ?? '/')}">
<button type="submit">Log in</button>
</form>
</main>
</body>
</html>
`;
}
