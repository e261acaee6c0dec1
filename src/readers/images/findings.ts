// The integrity findings an image archive or layout raises, by the rules of
// src/model/rules/image.ts. Anything dropped into K3s's agent/images/ directory is imported
// without a question, so each message says what would be imported.
import type { Finding, Location } from '../../model/inventory.ts';
import { IMAGE_RULES, type ImageRuleId } from '../../model/rules/image.ts';
import { ruleFinding } from '../../model/rules/rule.ts';

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
    this.list.push(ruleFinding(IMAGE_RULES[id], message, where === undefined ? this.base : [...this.base, where]));
  }
}
