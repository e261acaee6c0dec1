import { InvalidArgumentError, Option } from 'commander';
import type { BuildOptions } from '../inventory/build.ts';
import { readOptionText } from '../io/option-file.ts';
import type { Severity } from '../model/inventory.ts';
import { SEVERITIES } from '../model/severity.ts';
import { parsePlatform } from '../readers/images/platform.ts';
import type { Progress } from './progress.ts';

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

/**
 * The other spelling of each format name: `scan` grew `cyclonedx` and `sbom` grew
 * `cyclonedx-json` (after the Trivy and Syft names), and a user who learned one command
 * types it to the other.
 */
const OTHER_SPELLING: Readonly<Record<string, string>> = {
  cyclonedx: 'cyclonedx-json',
  'cyclonedx-json': 'cyclonedx',
  spdx: 'spdx-json',
  'spdx-json': 'spdx',
};

/**
 * `--format` with the command's `formats` (the names its code uses, the first the default),
 * each also accepted under its other spelling and handed on as the command's own name.
 */
export function formatOption(formats: readonly string[], description: string): Option {
  const accepted = formats.flatMap((f) => {
    const other = OTHER_SPELLING[f];
    return other ? [f, other] : [f];
  });
  return new Option('--format <format>', description)
    .choices(accepted)
    .default(formats[0])
    .argParser((value: string) => {
      const format = formats.includes(value) ? value : formats.find((f) => OTHER_SPELLING[f] === value);
      if (format === undefined) throw new InvalidArgumentError(`Allowed choices are ${accepted.join(', ')}.`);
      return format;
    });
}

/** `--severity critical,high` (any case, as trivy's `CRITICAL,HIGH`): the severities named, each once. */
export function parseSeverityList(text: string): Severity[] {
  const out: Severity[] = [];
  for (const word of text.split(',').map((w) => w.trim().toLowerCase())) {
    const s = SEVERITIES.find((x) => x === word);
    if (!s) throw new InvalidArgumentError(`not a severity: ${word || '(empty)'} (any of ${SEVERITIES.join(', ')})`);
    if (!out.includes(s)) out.push(s);
  }
  return out;
}

/** The image options inspect, sbom and scan share. */
export interface ImageCliOptions {
  platform?: string;
  imagesList?: string;
  maxLayerSize?: number;
}

/** The options inspect, sbom and scan share for reading a target. */
export interface TargetCliOptions extends ImageCliOptions {
  maxBundleSize: number;
}

/** The inventory options of a target command, with its progress line. */
export function targetBuildOptions(opts: TargetCliOptions, progress: Progress): BuildOptions {
  return { maxBundleBytes: opts.maxBundleSize, progress: progress.update, ...imageBuildOptions(opts) };
}

/** `--platform` and `--images-list` as build options (the list is read here: a missing file is a usage error). */
export function imageBuildOptions(opts: ImageCliOptions): {
  platform?: string;
  imagesList?: { file: string; text: string };
  maxLayerBytes?: number;
} {
  const out: { platform?: string; imagesList?: { file: string; text: string }; maxLayerBytes?: number } = {};
  if (opts.maxLayerSize !== undefined) out.maxLayerBytes = opts.maxLayerSize;
  if (opts.platform !== undefined) {
    // Checked before any work: a typo should not cost a read of a large archive.
    parsePlatform(opts.platform);
    out.platform = opts.platform;
  }
  if (opts.imagesList !== undefined) {
    out.imagesList = { file: opts.imagesList, text: readOptionText(opts.imagesList, 'images-list') };
  }
  return out;
}
