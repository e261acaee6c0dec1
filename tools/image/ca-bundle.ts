// /etc/ssl/certs/ca-certificates.crt for the image, made from Debian's ca-certificates package
// the way update-ca-certificates makes it (the PEM certificates concatenated), but from the
// package's own certificate files only: the build host's bundle also holds whatever CAs that
// host was told to trust locally (/usr/local/share/ca-certificates, deselections in
// /etc/ca-certificates.conf), which must not leak into an image others run.
import { readFileSync } from 'node:fs';
import { packageFiles } from './debian.ts';

export const CA_PACKAGE = 'ca-certificates';
export const CA_BUNDLE_PATH = '/etc/ssl/certs/ca-certificates.crt';

/** The package's certificates in path order, each ending in a newline. */
export function caBundle(): Buffer {
  const certs = packageFiles(CA_PACKAGE)
    .filter((p) => p.startsWith('/usr/share/ca-certificates/') && p.endsWith('.crt'))
    .sort();
  if (certs.length === 0) throw new Error(`${CA_PACKAGE}: the package lists no certificates`);
  return Buffer.concat(
    certs.map((p) => {
      const pem = readFileSync(p);
      return pem.at(-1) === 0x0a ? pem : Buffer.concat([pem, Buffer.from('\n')]);
    }),
  );
}
