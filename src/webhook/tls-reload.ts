// The serving certificate, re-read when its files change: cert-manager (or a Secret mount's
// symlink swap) replaces them while the webhook serves, and a restart would drop admissions.
// The files' mtimes and sizes are compared as each TCP connection arrives, before its TLS
// handshake starts (a prepended 'connection' listener), so the next handshake already uses the
// new pair. A pair caught half-written does not load; the old one is kept and tried again on
// the next connection. fs.watch is not used: it misses a Secret volume's atomic symlink swap.
import { readFileSync, statSync } from 'node:fs';
import type { Server } from 'node:tls';

export interface CertificateFiles {
  certFile: string;
  keyFile: string;
}

function stamp(files: CertificateFiles): string {
  try {
    const c = statSync(files.certFile);
    const k = statSync(files.keyFile);
    return `${c.mtimeMs}:${c.size}:${c.ino}|${k.mtimeMs}:${k.size}:${k.ino}`;
  } catch {
    return '';
  }
}

/** The files' PEM texts now. */
export function readCertificate(files: CertificateFiles): { cert: string; key: string } {
  return { cert: readFileSync(files.certFile, 'utf8'), key: readFileSync(files.keyFile, 'utf8') };
}

/** Reload `server`'s certificate whenever the files change; returns how many reloads took. */
export function watchCertificate(server: Server, files: CertificateFiles): { reloads: () => number } {
  let seen = stamp(files);
  let reloads = 0;
  server.prependListener('connection', () => {
    const now = stamp(files);
    if (now === '' || now === seen) return;
    try {
      server.setSecureContext(readCertificate(files));
      seen = now;
      reloads++;
    } catch {
      // Half-written or mismatched pair: keep serving the old one; the next connection retries.
    }
  });
  return { reloads: () => reloads };
}
