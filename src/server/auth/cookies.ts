// The session cookie: `k3sguard_session`, HttpOnly (no script reads it), SameSite=Strict (no
// other site's page sends it, which is what protects POST /logout and any form from forgery),
// Path=/, Secure when the server speaks TLS, and a Max-Age equal to the session's life.
export const SESSION_COOKIE = 'k3sguard_session';

/** One cookie's value from a `Cookie` header, or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function sessionCookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  return [
    `${SESSION_COOKIE}=${value}`,
    'Path=/',
    `Max-Age=${maxAgeSeconds}`,
    'HttpOnly',
    'SameSite=Strict',
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}

/** What makes the browser forget the cookie (logout, or a session the server no longer knows). */
export function clearedSessionCookie(secure: boolean): string {
  return sessionCookie('', 0, secure);
}
