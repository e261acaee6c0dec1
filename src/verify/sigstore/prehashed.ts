// Signature verification over a digest alone, for message-signature bundles. node:crypto can
// only verify ECDSA over the whole message (it hashes it itself), which would mean holding a
// multi-GB release asset in memory, and is impossible when the user gives `sha256:<hex>`
// instead of the file. ECDSA and RSA PKCS#1 v1.5 sign the digest, so both can be checked
// from the digest: ECDSA with the SEC 1 §4.1.4 verification equation below (public data
// only, so no constant-time concerns), RSA by recovering the DigestInfo with publicDecrypt.
// Ed25519 and RSA-PSS keys are not handled here: the caller falls back to the whole file.
import { constants, type KeyObject, publicDecrypt } from 'node:crypto';

export type DigestAlgorithm = 'sha256' | 'sha384' | 'sha512';

interface Curve {
  p: bigint;
  a: bigint;
  b: bigint;
  n: bigint;
  gx: bigint;
  gy: bigint;
}

// NIST FIPS 186-4 D.1.2.3 and D.1.2.4 (a = -3 for both).
const P256_P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const P384_P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn;
export const CURVES: Record<string, Curve> = {
  prime256v1: {
    p: P256_P,
    a: P256_P - 3n,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
    n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
    gx: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
    gy: 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
  },
  secp384r1: {
    p: P384_P,
    a: P384_P - 3n,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
    n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
    gx: 0xaa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7n,
    gy: 0x3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5fn,
  },
};

/** Whether verifyPrehashed can check a signature made with this key from the digest alone. */
export function canVerifyPrehashed(key: KeyObject): boolean {
  if (key.asymmetricKeyType === 'rsa') return true;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return key.asymmetricKeyType === 'ec' && curve !== undefined && curve in CURVES;
}

/** Verifies `signature` (DER ECDSA, or RSA PKCS#1 v1.5) over the message whose digest is `digest`. */
export function verifyPrehashed(
  key: KeyObject,
  algorithm: DigestAlgorithm,
  digest: Buffer,
  signature: Buffer,
): boolean {
  if (key.asymmetricKeyType === 'rsa') return verifyRsaPkcs1(key, algorithm, digest, signature);
  const curve = CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''];
  if (key.asymmetricKeyType !== 'ec' || !curve) return false;
  const rs = parseDerSignature(signature);
  if (!rs) return false;
  const jwk = key.export({ format: 'jwk' });
  if (!jwk.x || !jwk.y) return false;
  const q = { x: toBig(Buffer.from(jwk.x, 'base64url')), y: toBig(Buffer.from(jwk.y, 'base64url')) };
  return verifyEcdsa(curve, q, digestToInt(curve, digest), rs.r, rs.s);
}

// --- ECDSA ---------------------------------------------------------------------------------

interface Affine {
  x: bigint;
  y: bigint;
}
/** Jacobian coordinates (x = X/Z², y = Y/Z³); Z = 0 is the point at infinity. */
interface Jacobian {
  x: bigint;
  y: bigint;
  z: bigint;
}

export function onCurve(c: Curve, pt: Affine): boolean {
  if (pt.x < 0n || pt.x >= c.p || pt.y < 0n || pt.y >= c.p) return false;
  return mod(pt.y * pt.y - (pt.x * pt.x * pt.x + c.a * pt.x + c.b), c.p) === 0n;
}

function verifyEcdsa(c: Curve, q: Affine, e: bigint, r: bigint, s: bigint): boolean {
  if (r <= 0n || r >= c.n || s <= 0n || s >= c.n || !onCurve(c, q)) return false;
  const w = modInverse(s, c.n);
  const u1 = mod(e * w, c.n);
  const u2 = mod(r * w, c.n);
  const sum = shamir(c, u1, { x: c.gx, y: c.gy }, u2, q);
  if (sum.z === 0n) return false;
  const zInv = modInverse(sum.z, c.p);
  const x = mod(sum.x * zInv * zInv, c.p);
  return mod(x, c.n) === r;
}

/** u1·G + u2·Q in one double-and-add pass over both scalars (Shamir's trick). */
function shamir(c: Curve, u1: bigint, g: Affine, u2: bigint, q: Affine): Jacobian {
  const gj = { ...g, z: 1n };
  const qj = { ...q, z: 1n };
  const gq = add(c, gj, qj);
  let acc: Jacobian = { x: 0n, y: 1n, z: 0n };
  const bits = Math.max(u1.toString(2).length, u2.toString(2).length);
  for (let i = bits - 1; i >= 0; i--) {
    acc = double(c, acc);
    const b1 = (u1 >> BigInt(i)) & 1n;
    const b2 = (u2 >> BigInt(i)) & 1n;
    if (b1 && b2) acc = add(c, acc, gq);
    else if (b1) acc = add(c, acc, gj);
    else if (b2) acc = add(c, acc, qj);
  }
  return acc;
}

function double(c: Curve, pt: Jacobian): Jacobian {
  if (pt.z === 0n || pt.y === 0n) return { x: 0n, y: 1n, z: 0n };
  const { p } = c;
  const yy = mod(pt.y * pt.y, p);
  const zz = mod(pt.z * pt.z, p);
  const s = mod(4n * pt.x * yy, p);
  const m = mod(3n * pt.x * pt.x + c.a * zz * zz, p);
  const x = mod(m * m - 2n * s, p);
  const y = mod(m * (s - x) - 8n * yy * yy, p);
  const z = mod(2n * pt.y * pt.z, p);
  return { x, y, z };
}

function add(c: Curve, a: Jacobian, b: Jacobian): Jacobian {
  if (a.z === 0n) return b;
  if (b.z === 0n) return a;
  const { p } = c;
  const z1z1 = mod(a.z * a.z, p);
  const z2z2 = mod(b.z * b.z, p);
  const u1 = mod(a.x * z2z2, p);
  const u2 = mod(b.x * z1z1, p);
  const s1 = mod(a.y * b.z * z2z2, p);
  const s2 = mod(b.y * a.z * z1z1, p);
  const h = mod(u2 - u1, p);
  const r = mod(s2 - s1, p);
  if (h === 0n) return r === 0n ? double(c, a) : { x: 0n, y: 1n, z: 0n };
  const hh = mod(h * h, p);
  const hhh = mod(h * hh, p);
  const x = mod(r * r - hhh - 2n * u1 * hh, p);
  const y = mod(r * (u1 * hh - x) - s1 * hhh, p);
  const z = mod(h * a.z * b.z, p);
  return { x, y, z };
}

/** SEC 1 §4.1.3 step 5: the leftmost bits of the digest, as many as the order has. */
function digestToInt(c: Curve, digest: Buffer): bigint {
  const orderBits = c.n.toString(2).length;
  const e = toBig(digest);
  const excess = digest.length * 8 - orderBits;
  return excess > 0 ? e >> BigInt(excess) : e;
}

/** Strict DER `SEQUENCE { INTEGER r, INTEGER s }`: anything else is not a signature. */
export function parseDerSignature(sig: Buffer): { r: bigint; s: bigint } | undefined {
  if (sig.length < 8 || sig[0] !== 0x30) return undefined;
  let off = 2;
  let len = sig[1] ?? 0;
  if (len === 0x81) {
    len = sig[2] ?? 0;
    off = 3;
    if (len < 0x80) return undefined;
  } else if (len > 0x80) return undefined;
  if (off + len !== sig.length) return undefined;
  const r = readDerInt(sig, off);
  if (!r) return undefined;
  const s = readDerInt(sig, r.next);
  if (!s || s.next !== sig.length) return undefined;
  return { r: r.value, s: s.value };
}

function readDerInt(buf: Buffer, off: number): { value: bigint; next: number } | undefined {
  if (buf[off] !== 0x02) return undefined;
  const len = buf[off + 1] ?? 0;
  if (len === 0 || len >= 0x80 || off + 2 + len > buf.length) return undefined;
  const bytes = buf.subarray(off + 2, off + 2 + len);
  const first = bytes[0] ?? 0;
  if (first & 0x80) return undefined; // negative
  if (first === 0 && len > 1 && ((bytes[1] ?? 0) & 0x80) === 0) return undefined; // not minimal
  return { value: toBig(bytes), next: off + 2 + len };
}

// --- RSA PKCS#1 v1.5 -------------------------------------------------------------------------

// RFC 8017 §9.2 note 1: the DER DigestInfo prefix for each hash.
const DIGEST_INFO: Record<DigestAlgorithm, string> = {
  sha256: '3031300d060960864801650304020105000420',
  sha384: '3041300d060960864801650304020205000430',
  sha512: '3051300d060960864801650304020305000440',
};

function verifyRsaPkcs1(key: KeyObject, algorithm: DigestAlgorithm, digest: Buffer, sig: Buffer): boolean {
  try {
    const recovered = publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, sig);
    const expected = Buffer.concat([Buffer.from(DIGEST_INFO[algorithm], 'hex'), digest]);
    return recovered.equals(expected);
  } catch {
    return false;
  }
}

// --- arithmetic ------------------------------------------------------------------------------

function toBig(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}

function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

/** Inverse modulo a prime (Fermat): both moduli here, p and n, are prime. */
function modInverse(a: bigint, m: bigint): bigint {
  let result = 1n;
  let base = mod(a, m);
  let e = m - 2n;
  while (e > 0n) {
    if (e & 1n) result = (result * base) % m;
    base = (base * base) % m;
    e >>= 1n;
  }
  return result;
}
