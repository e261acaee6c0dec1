// An OCI layout whose one layer is a gzip bomb: a tar of one file of zeros. The layer is built
// as concatenated gzip members (the tar header, then one member of zeros repeated), which is a
// valid gzip stream (RFC 1952) and costs a few seconds to make whatever the size, so a test can
// give k3sguard many GiB of work without the fixture doing that work first.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ZERO_MEMBER_BYTES = 256 * 1024 * 1024;

/**
 * `dir/layout`, holding one image `docker.io/k3sguard/bomb:1` whose layer is a tar of one
 * file of `mib` MiB of zeros (a multiple of 256). Its diff_id is right when `exactDiffId`.
 */
export function bombLayout(dir: string, mib = 256, exactDiffId = true): string {
  if (mib % 256 !== 0) throw new Error('bombLayout: a multiple of 256 MiB');
  const work = join(dir, 'work');
  mkdirSync(work, { recursive: true });
  execFileSync('truncate', ['-s', `${mib}M`, join(work, 'zeros')]);
  // GNU tar writes the header (base-256 size past 8 GiB) and then only zeros: data, padding
  // and the two end blocks. Its first 512 bytes are the header; the rest is all zeros.
  const header = execFileSync('sh', ['-c', `tar --format=gnu -C ${work} -cf - zeros | head -c 512`], {
    maxBuffer: 1 << 20,
  });
  const zeros = execFileSync('sh', ['-c', `head -c ${ZERO_MEMBER_BYTES} /dev/zero | gzip -1n`], {
    maxBuffer: 1 << 26,
  });
  // After the data: two zero blocks of end-of-archive, then zeros up to GNU tar's 10240-byte
  // record, so the stream is byte for byte what `tar -cf` writes.
  const data = mib * 1024 * 1024;
  const total = Math.ceil((512 + data + 1024) / 10240) * 10240;
  const end = execFileSync('sh', ['-c', `head -c ${total - 512 - data} /dev/zero | gzip -1n`]);
  const members = [execFileSync('gzip', ['-1n'], { input: header })];
  for (let i = 0; i < mib / 256; i++) members.push(zeros);
  members.push(end);
  const layer = Buffer.concat(members);
  const diffId = exactDiffId
    ? `sha256:${execFileSync('sh', ['-c', `tar --format=gnu -C ${work} -cf - zeros | sha256sum`], { encoding: 'utf8' }).split(' ')[0]}`
    : `sha256:${'0'.repeat(64)}`;

  const layout = join(dir, 'layout');
  mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
  const put = (bytes: Buffer | string): { digest: string; size: number } => {
    const b = Buffer.from(bytes);
    const hex = createHash('sha256').update(b).digest('hex');
    writeFileSync(join(layout, 'blobs', 'sha256', hex), b);
    return { digest: `sha256:${hex}`, size: b.length };
  };
  const config = put(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [diffId] }, config: {} }),
  );
  const l = put(layer);
  const manifest = put(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...l }],
    }),
  );
  writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(
    join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...manifest,
          annotations: { 'org.opencontainers.image.ref.name': 'docker.io/k3sguard/bomb:1' },
        },
      ],
    }),
  );
  return layout;
}
