// X.509 certificates for the webhook's TLS, made with node:crypto alone (io/der.ts writes the
// DER; the keys are ECDSA P-256, signed with SHA-256): a CA that signs nothing but the serving
// certificate, and that serving certificate with the Service's DNS names. The API server
// (Go's crypto/x509) is strict about both: the CA needs basicConstraints CA:TRUE with
// keyCertSign, the serving certificate subjectAltName dNSNames (the common name is ignored)
// and serverAuth. Key identifiers let any verifier link the two without guessing.
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import {
  bitString,
  boolean,
  explicit,
  implicit,
  octetString,
  oid,
  sequence,
  set,
  smallInteger,
  time,
  unsignedInteger,
  utf8String,
} from '../../io/der.ts';

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

export interface IssuedCertificate {
  /** PEM `CERTIFICATE`. */
  certPem: string;
  /** PEM PKCS#8 `PRIVATE KEY`. */
  keyPem: string;
  key: KeyObject;
  /** The subject's DER, the issuer of what this one signs. */
  subject: Buffer;
  keyId: Buffer;
}

export interface CertificateRequest {
  commonName: string;
  notBefore: Date;
  notAfter: Date;
  /** A CA certificate (signs others, no names) or a serving one (these DNS names). */
  role: { ca: true } | { ca: false; dnsNames: readonly string[] };
  /** Absent: self-signed. */
  issuer?: IssuedCertificate;
}

const name = (commonName: string) =>
  sequence(
    set(sequence(oid(OID.organization), utf8String('k3sguard'))),
    set(sequence(oid(OID.commonName), utf8String(commonName))),
  );

const extension = (id: string, critical: boolean, value: Buffer) =>
  critical ? sequence(oid(id), boolean(true), octetString(value)) : sequence(oid(id), octetString(value));

/** A new P-256 key pair and the certificate for its public key, signed by `issuer` (or itself). */
export function issueCertificate(req: CertificateRequest): IssuedCertificate {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  // RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits (the SPKI's last 65 bytes for P-256).
  const keyId = createHash('sha1')
    .update(spki.subarray(spki.length - 65))
    .digest();
  const subject = name(req.commonName);
  const issuerName = req.issuer?.subject ?? subject;
  const signingKey = req.issuer?.key ?? privateKey;
  const serial = randomBytes(16);
  serial[0] = (serial[0] as number) & 0x7f; // positive, at most 16 bytes with its sign (RFC 5280 4.1.2.2)
  const extensions = req.role.ca
    ? [
        // CA:TRUE, pathLenConstraint 0: it signs serving certificates, never another CA.
        extension(OID.basicConstraints, true, sequence(boolean(true), smallInteger(0))),
        // keyCertSign (bit 5) and cRLSign (bit 6): 0b0000_0110, one unused bit.
        extension(OID.keyUsage, true, bitString(Buffer.from([0x06]), 1)),
        extension(OID.subjectKeyIdentifier, false, octetString(keyId)),
      ]
    : [
        extension(OID.basicConstraints, true, sequence()),
        // digitalSignature (bit 0) only: an ECDSA key signs the handshake, it encrypts nothing.
        extension(OID.keyUsage, true, bitString(Buffer.from([0x80]), 7)),
        extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth))),
        extension(
          OID.subjectAltName,
          false,
          sequence(...req.role.dnsNames.map((d) => implicit(2, Buffer.from(d, 'ascii')))),
        ),
        extension(OID.subjectKeyIdentifier, false, octetString(keyId)),
        extension(OID.authorityKeyIdentifier, false, sequence(implicit(0, (req.issuer ?? { keyId }).keyId))),
      ];
  const algorithm = sequence(oid(OID.ecdsaWithSha256));
  const tbs = sequence(
    explicit(0, smallInteger(2)), // v3
    unsignedInteger(serial),
    algorithm,
    issuerName,
    sequence(time(req.notBefore), time(req.notAfter)),
    subject,
    spki,
    explicit(3, sequence(...extensions)),
  );
  const signature = sign('sha256', tbs, signingKey); // DER ECDSA-Sig-Value
  const der = sequence(tbs, algorithm, bitString(signature));
  return {
    certPem: pem('CERTIFICATE', der),
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    key: privateKey,
    subject,
    keyId,
  };
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
