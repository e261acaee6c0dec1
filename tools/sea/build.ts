// `npm run build:sea`: k3sguard as one file per architecture that needs nothing on the node,
// dist/k3sguard-linux-amd64 and dist/k3sguard-linux-arm64 (Node's single executable
// applications), each with its SBOM in dist/sea/k3sguard-linux-<arch>.cdx.json (embedded too,
// for `sbom --self`), and dist/sea/materials.json naming what they were built from.
//   node tools/sea/build.ts [--out-dir DIR] [--arch amd64|arm64]...
// --out-dir writes elsewhere than dist/ (the tests build into a temporary folder). The build is
// offline once the two Node packages are in the cache (see node-binary.ts).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SEA_ASSET, seaWorkerAsset } from '../../src/io/sea.ts';
import { ASSET_SOURCES, assetPath, seaDashboardAsset } from '../../src/server/dashboard/assets.ts';
import { BUNDLER, bundle, ROOT } from './bundle.ts';
import { buildExecutable } from './executable.ts';
import { ARCHES, type Arch, type NodeBinary, nodeBinary } from './node-binary.ts';
import { executableSbom } from './sbom.ts';

const TRUSTED_ROOT = join(ROOT, 'src', 'verify', 'sigstore', 'trust', 'trusted_root.json');
const HOST_ARCH: Partial<Record<string, Arch>> = { x64: 'amd64', arm64: 'arm64' };

interface NodeMaterial {
  package: string;
  version: string;
  integrity: string;
  sha256: string;
  /** Whether the blob carries V8's code cache (made by this Node itself, see executable.ts). */
  codeCache: boolean;
}

export interface Materials {
  bundler: { name: string; version: string };
  injector: { name: string; version: string };
  /** By architecture: the npm package the Node binary came from, and the binary's sha256. */
  node: Partial<Record<Arch, NodeMaterial>>;
}

/** SOURCE_DATE_EPOCH, else the HEAD commit's time: the SBOM's timestamp, the same each build. */
function buildTime(): Date {
  const epoch =
    process.env.SOURCE_DATE_EPOCH ??
    execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: ROOT, encoding: 'utf8' });
  const seconds = Number(epoch.trim());
  if (!Number.isInteger(seconds) || seconds < 0) throw new Error(`SOURCE_DATE_EPOCH: not a time in seconds: ${epoch}`);
  return new Date(seconds * 1000);
}

export async function buildSea(outDir: string, arches: readonly Arch[] = ARCHES): Promise<Materials> {
  const hostArch = HOST_ARCH[process.arch];
  if (!hostArch) throw new Error(`build:sea runs on linux amd64 or arm64, not ${process.arch}`);
  const work = mkdtempSync(join(tmpdir(), 'k3sguard-sea-'));
  try {
    const seaDir = join(outDir, 'sea');
    mkdirSync(seaDir, { recursive: true });
    const bundled = await bundle();
    const main = join(work, 'k3sguard.cjs');
    writeFileSync(main, bundled.cli);
    const assets: Record<string, string> = {
      [SEA_ASSET.packageJson]: join(ROOT, 'package.json'),
      [SEA_ASSET.trustedRoot]: TRUSTED_ROOT,
    };
    // The fleet server's dashboard files (its stylesheet and script, htmx and uPlot as installed):
    // the executable serves them from its assets, and its SBOM names the packages they come from.
    const dashboardFiles = ASSET_SOURCES.map((source) => {
      const file = assetPath(source);
      assets[seaDashboardAsset(source.name)] = file;
      return relative(ROOT, file);
    });
    for (const [entry, code] of bundled.workers) {
      const file = join(work, `${entry.replaceAll('/', '_')}.cjs`);
      writeFileSync(file, code);
      assets[seaWorkerAsset(entry)] = file;
    }
    const time = buildTime();
    const host = nodeBinary(hostArch, work);
    const materials: Materials = {
      bundler: BUNDLER,
      injector: { name: 'postject', version: packageVersion('postject') },
      node: {},
    };
    for (const arch of arches) {
      const target: NodeBinary = arch === hostArch ? host : nodeBinary(arch, work);
      const sbom = join(seaDir, `k3sguard-linux-${arch}.cdx.json`);
      writeFileSync(sbom, executableSbom([...bundled.inputs, ...dashboardFiles], target, time));
      const output = join(outDir, `k3sguard-linux-${arch}`);
      // Written beside its place and renamed: a failed build leaves no half executable there.
      const partial = `${output}.partial`;
      let codeCache: boolean;
      try {
        ({ codeCache } = buildExecutable({
          target,
          host,
          main,
          assets: { ...assets, [SEA_ASSET.sbom]: sbom },
          workDir: work,
          output: partial,
        }));
        renameSync(partial, output);
      } finally {
        rmSync(partial, { force: true });
      }
      const { package: p, sha256 } = target;
      materials.node[arch] = { package: p.name, version: p.version, integrity: p.integrity, sha256, codeCache };
      const mib = (statSync(output).size / 2 ** 20).toFixed(1);
      process.stderr.write(`build:sea: ${output} (${mib} MiB${codeCache ? ', code cache' : ''})\n`);
    }
    writeFileSync(join(seaDir, 'materials.json'), `${JSON.stringify(materials, null, 2)}\n`);
    return materials;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function packageVersion(name: string): string {
  return (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string })
    .version;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: { 'out-dir': { type: 'string' }, arch: { type: 'string', multiple: true } },
  });
  const arches = (values.arch ?? ARCHES).map((a) => {
    if (!(ARCHES as string[]).includes(a)) throw new Error(`--arch ${a}: one of ${ARCHES.join(', ')}`);
    return a as Arch;
  });
  await buildSea(resolve(values['out-dir'] ?? join(ROOT, 'dist')), arches);
}
