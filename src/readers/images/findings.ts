// The integrity findings an image archive or layout can raise. Ids are stable (reports,
// SARIF rules and suppressions key on them). Anything dropped into K3s's agent/images/
// directory is imported without a question, so each message says what would be imported.
import type { Finding, Location } from '../../model/inventory.ts';
import { type RuleTable, ruleFinding } from '../../model/rules/table.ts';

export const IMAGE_RULES = {
  'K3SG-IMAGE-BLOB-DIGEST': { severity: 'critical', title: 'Image blob does not match its digest' },
  'K3SG-IMAGE-BLOB-SIZE': { severity: 'high', title: 'Image blob size differs from its descriptor' },
  'K3SG-IMAGE-BLOB-MISSING': { severity: 'high', title: 'Image descriptor names a blob the archive lacks' },
  'K3SG-IMAGE-LAYER-UNREADABLE': { severity: 'high', title: 'Image layer cannot be decompressed' },
  'K3SG-IMAGE-DIFFID': { severity: 'critical', title: 'Layer content differs from the config diff_ids' },
  'K3SG-IMAGE-VIEWS-DIFFER': { severity: 'critical', title: 'index.json and manifest.json describe different images' },
  'K3SG-IMAGE-PLATFORM': { severity: 'medium', title: 'Image has no manifest for the wanted platform' },
  'K3SG-IMAGE-EXTRA': { severity: 'high', title: 'Archive holds an image that is not in the images list' },
  'K3SG-IMAGE-MISSING': { severity: 'high', title: 'Listed image is missing from the archive' },
  'K3SG-IMAGE-LAYER-PATH': { severity: 'high', title: 'Image layer member escapes the image root' },
} as const satisfies RuleTable;

export type ImageRuleId = keyof typeof IMAGE_RULES;

export class ImageFindings {
  readonly list: Finding[] = [];
  private readonly base: Location;
  private readonly seen = new Set<string>();

  constructor(target: string) {
    this.base = [target];
  }

  /** `where` is a path inside the archive (or an image name); repeats are reported once. */
  add(id: ImageRuleId, message: string, where?: string): void {
    const key = `${id}\0${where ?? ''}\0${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.list.push(ruleFinding(IMAGE_RULES, id, message, where === undefined ? this.base : [...this.base, where]));
  }
}
