// The JSON documents of an image (index.json, manifest.json, image indexes, manifests,
// configs), read from the members the hasher kept, with the shape checks the resolver needs.

import { parseJsonText } from '../../io/json-text.ts';
import { InputError } from '../../model/errors.ts';
import type { HashedMember } from './blobhash.ts';
import type { ImageLimits } from './types.ts';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations: Record<string, string>;
  platform?: { os?: string; architecture?: string; variant?: string };
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

export type JsonObject = Record<string, unknown>;

export function memberJson(file: string, path: string, m: HashedMember, limits: ImageLimits): JsonObject {
  if (!m.json) {
    if (m.notKept === 'too-large') {
      const why = `is ${m.record.size} bytes, over the ${limits.maxJsonBlob}-byte limit for an index, manifest or config`;
      throw new InputError('IMAGE_LIMIT', file, `image: ${path} ${why}`);
    }
    if (m.notKept === 'budget') {
      const why = `was not kept: the archive's JSON members exceed ${limits.maxJsonTotal} bytes in all`;
      throw new InputError('IMAGE_LIMIT', file, `image: ${path} ${why}`);
    }
    throw new InputError('IMAGE_CORRUPT', file, `image: ${path} is not JSON`);
  }
  let parsed: unknown;
  try {
    parsed = parseJsonText(m.json.toString('utf8'));
  } catch (e) {
    throw new InputError('IMAGE_CORRUPT', file, `image: ${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null) {
    throw new InputError('IMAGE_CORRUPT', file, `image: ${path} is not a JSON object or array`);
  }
  return parsed as JsonObject;
}

/** A descriptor, strictly: sha256 digests only (what containerd writes), a safe-integer size. */
export function descriptor(file: string, where: string, v: unknown): Descriptor {
  const bad = (why: string) => new InputError('IMAGE_CORRUPT', file, `image: ${where}: ${why}`);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('a descriptor is not an object');
  const o = v as JsonObject;
  if (typeof o.digest !== 'string' || !DIGEST.test(o.digest))
    throw bad(`unsupported digest ${JSON.stringify(o.digest)}`);
  if (typeof o.size !== 'number' || !Number.isSafeInteger(o.size) || o.size < 0) {
    throw bad(`descriptor ${o.digest} has an invalid size`);
  }
  const d: Descriptor = {
    mediaType: typeof o.mediaType === 'string' ? o.mediaType : '',
    digest: o.digest,
    size: o.size,
    annotations: stringRecord(o.annotations),
  };
  if (typeof o.platform === 'object' && o.platform !== null) {
    const p = o.platform as JsonObject;
    d.platform = {};
    if (typeof p.os === 'string') d.platform.os = p.os;
    if (typeof p.architecture === 'string') d.platform.architecture = p.architecture;
    if (typeof p.variant === 'string') d.platform.variant = p.variant;
  }
  return d;
}

export function descriptorList(file: string, where: string, v: unknown): Descriptor[] {
  if (!Array.isArray(v)) throw new InputError('IMAGE_CORRUPT', file, `image: ${where} is not a list of descriptors`);
  return v.map((d, i) => descriptor(file, `${where}[${i}]`, d));
}

function stringRecord(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof v !== 'object' || v === null) return out;
  for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
}

export function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export const INDEX_TYPES = new Set([
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
]);
export const MANIFEST_TYPES = new Set([
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
]);
