import { InvalidArgumentError } from 'commander';

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

/** `512MiB`, `2g`, `1048576` -> bytes. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m ? UNITS[(m[2] ?? '').toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new InvalidArgumentError(`not a size: ${text} (e.g. 512MiB, 2GiB)`);
  const bytes = Math.floor(Number(m[1]) * unit);
  if (bytes <= 0) throw new InvalidArgumentError(`size must be positive: ${text}`);
  return bytes;
}
