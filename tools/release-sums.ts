// sha256sum.txt: every release file by its SHA-256, in GNU coreutils format (`<hex>  <name>`,
// sorted by name), so `sha256sum -c sha256sum.txt` and `k3sguard verify --checksums` both read it.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { pipeline } from 'node:stream/promises';

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** Writes `sumsPath` for `files` (each listed by its base name) and returns the digests by name. */
export async function writeSums(sumsPath: string, files: readonly string[]): Promise<Map<string, string>> {
  const byName = new Map<string, string>();
  for (const f of files) byName.set(basename(f), await sha256File(f));
  const names = [...byName.keys()].sort();
  await writeFile(sumsPath, names.map((n) => `${byName.get(n)}  ${n}\n`).join(''));
  return byName;
}
