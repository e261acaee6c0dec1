// `npm run release [-- --out DIR]`: the release of k3sguard, in dist/release/ by default:
// the two single executables, the npm tarball and the image archive; a CycloneDX SBOM of each;
// sha256sum.txt; a Sigstore bundle for every file, signed with the organisation key
// ($K3SGUARD_SIGNING_KEY, the path of a PEM; $K3SGUARD_KEY_PASSPHRASE for an encrypted one)
// by `k3sguard sign`; and SLSA provenance v1 as a signed DSSE attestation about every artifact.
// What it is built from is the commit at HEAD: a tree that differs from it is refused unless
// K3SGUARD_RELEASE_ALLOW_DIRTY=1, and then the provenance says it was dirty. docs/release.md
// says how to check a release.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { imageDigest, renderDeploy } from './release-deploy.ts';
import { ReleaseError } from './release-error.ts';
import { type BuildOutputs, buildOutputPaths, checkOutputs, runBuilds } from './release-inputs.ts';
import { lockDescriptors, readSeaMaterials, seaDescriptors, sourceDescriptor } from './release-materials.ts';
import { writeNpmSbom } from './release-npm-sbom.ts';
import { provenancePredicate, SLSA_PROVENANCE_V1 } from './release-provenance.ts';
import { k3sguardSigner } from './release-sign.ts';
import { type SourceState, sourceState } from './release-source.ts';
import { writeSums } from './release-sums.ts';

const ROOT = resolve(import.meta.dirname, '..');
export const KEY_ENV = 'K3SGUARD_SIGNING_KEY';
export const ALLOW_DIRTY_ENV = 'K3SGUARD_RELEASE_ALLOW_DIRTY';
const COMMAND = 'npm run release';

const log = (line: string) => process.stderr.write(`release: ${line}\n`);

/** Refuses a folder that is neither missing, empty nor an earlier release: it is not ours to empty. */
function checkOutDir(out: string): void {
  if (!existsSync(out)) return;
  const entries = readdirSync(out);
  if (entries.length > 0 && !entries.includes('sha256sum.txt')) {
    throw new ReleaseError(`${out}: not empty and not an earlier release: not deleting it`);
  }
}

/** Where the release goes: emptied first, but only when it is empty or an earlier release. */
function prepareOutDir(out: string): void {
  checkOutDir(out);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
}

/** `npm pack` (its prepack builds the JavaScript) into `out`: the tarball's path. */
function npmPack(out: string, env: NodeJS.ProcessEnv): string {
  const r = spawnSync('npm', ['pack', '--silent', '--pack-destination', out], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 2],
  });
  const name = r.stdout?.trim().split('\n').pop();
  if (r.status !== 0 || !name) throw new ReleaseError('npm pack failed (its output is above): no release');
  return join(out, name);
}

function copyInto(out: string, from: string, name = basename(from), mode = 0o644): string {
  const to = join(out, name);
  copyFileSync(from, to);
  chmodSync(to, mode);
  return to;
}

export async function release(argv: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const { values } = parseArgs({ args: argv, options: { out: { type: 'string' } } });
  const out = resolve(values.out ?? join(ROOT, 'dist', 'release'));
  checkOutDir(out); // before the builds, as the key below: nothing to find out after them
  const key = env[KEY_ENV];
  if (!key) throw new ReleaseError(`${KEY_ENV} is not set: give the path of the organisation's signing key (PEM)`);
  if (!existsSync(key)) throw new ReleaseError(`${KEY_ENV}: ${key}: no such file`);
  const source = sourceState(ROOT);
  if (source.changes.length > 0) {
    const first = source.changes[0];
    if (env[ALLOW_DIRTY_ENV] !== '1') {
      throw new ReleaseError(
        `the work tree differs from ${source.commit} (${first}${source.changes.length > 1 ? `, and ${source.changes.length - 1} more` : ''}): commit first, or set ${ALLOW_DIRTY_ENV}=1 for a release marked dirty`,
      );
    }
    log(
      `DIRTY: the work tree differs from ${source.commit} (${source.changes.length} changes); the provenance says so`,
    );
  }
  const sourceDateEpoch = Number(env.SOURCE_DATE_EPOCH ?? source.commitTime);
  const buildEnv = { ...env, SOURCE_DATE_EPOCH: String(sourceDateEpoch) };
  const startedOn = new Date();

  const buildDir = mkdtempSync(join(tmpdir(), 'k3sguard-release-build-'));
  try {
    // The key (and its passphrase) is tried first, on a file of no value: a key that cannot
    // sign should not be found out after the builds.
    const probe = join(buildDir, 'key-probe');
    writeFileSync(probe, 'k3sguard release: can this key sign?\n');
    k3sguardSigner(ROOT, key, env).signFile(probe);
    runBuilds(ROOT, buildDir, buildEnv, log);
    const built = buildOutputPaths(buildDir);
    checkOutputs(built);
    prepareOutDir(out);
    await assemble({ out, work: buildDir, built, key, source, sourceDateEpoch, startedOn, env, buildEnv });
  } finally {
    rmSync(buildDir, { recursive: true, force: true });
  }
  for (const f of readdirSync(out).sort()) log(`${String(statSync(join(out, f)).size).padStart(12)}  ${f}`);
  return out;
}

interface Assembly {
  out: string;
  /** The build folder, for files that are not part of the release. */
  work: string;
  built: BuildOutputs;
  key: string;
  source: SourceState;
  sourceDateEpoch: number;
  startedOn: Date;
  env: NodeJS.ProcessEnv;
  buildEnv: NodeJS.ProcessEnv;
}

/** The release folder from the build outputs: copies, the npm package, SBOMs, sums, signatures. */
async function assemble({
  out,
  work,
  built,
  key,
  source,
  sourceDateEpoch,
  startedOn,
  env,
  buildEnv,
}: Assembly): Promise<void> {
  log('npm pack');
  const tarball = npmPack(out, buildEnv);
  const tarballSbom = join(out, `${basename(tarball, '.tgz')}.cdx.json`);
  writeNpmSbom(tarballSbom, sourceDateEpoch);
  const artifacts = [
    copyInto(out, built.executables.amd64, undefined, 0o755),
    copyInto(out, built.executables.arm64, undefined, 0o755),
    tarball,
    copyInto(out, built.imageArchive),
  ];
  const sboms = [
    copyInto(out, built.executableSboms.amd64),
    copyInto(out, built.executableSboms.arm64),
    tarballSbom,
    copyInto(out, built.imageSbom),
  ];
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const imageName = `docker.io/library/k3sguard:${version}`;
  const deploy = join(out, 'k3sguard-deploy.yaml');
  renderDeploy(join(ROOT, 'deploy'), imageName, await imageDigest(built.imageArchive, imageName), deploy);
  artifacts.push(deploy);
  const sums = join(out, 'sha256sum.txt');
  await writeSums(sums, [...artifacts, ...sboms]);

  const lock = lockDescriptors(join(ROOT, 'package-lock.json'));
  const sea = seaDescriptors(readSeaMaterials(built.materials), lock);
  const materials = [sourceDescriptor(source), ...sea, ...lock];
  const predicate = provenancePredicate({
    source,
    command: COMMAND,
    sourceDateEpoch,
    materials,
    startedOn,
    finishedOn: new Date(),
    env,
  });
  const signer = k3sguardSigner(ROOT, key, env);
  const predicateFile = join(work, 'provenance-predicate.json');
  writeFileSync(predicateFile, JSON.stringify(predicate));
  const provenance = join(out, `${basename(tarball, '.tgz')}.provenance.sigstore.json`);
  log('signing');
  signer.attest([...artifacts, ...sboms], predicateFile, SLSA_PROVENANCE_V1, provenance);
  for (const f of [...artifacts, ...sboms, sums]) signer.signFile(f);
}

if (import.meta.main) {
  const started = process.hrtime.bigint();
  release(process.argv.slice(2), process.env).then(
    (out) => log(`${out} in ${Number((process.hrtime.bigint() - started) / 1_000_000n) / 1000}s`),
    (e) => {
      if (!(e instanceof ReleaseError)) throw e;
      process.stderr.write(`release: ${e.message}\n`);
      process.exitCode = 2;
    },
  );
}
