// The tampering findings a bundle raises, by the rules of src/model/rules/bundle.ts. Each
// message says what was found and what to do about it, which differs between a bundle inside a
// k3s binary and one K3s already extracted.
import type { Finding, Location } from '../../model/inventory.ts';
import { BUNDLE_RULES, type BundleRuleId } from '../../model/rules/bundle.ts';
import { ruleFinding } from '../../model/rules/rule.ts';

/** Builds findings for one bundle, with the right remedy for where the bundle lives. */
export class BundleFindings {
  readonly list: Finding[] = [];
  private readonly base: Location;
  private readonly remedy: string;

  constructor(base: Location, source: 'embedded' | 'datadir', display: string) {
    this.base = base;
    this.remedy =
      source === 'embedded'
        ? `Do not run ${display}: replace it with the official K3s release binary and check it against the release's sha256sum file.`
        : `K3s checks this directory only when it extracts it: stop K3s, delete ${display}, start K3s again from a verified binary so it extracts a fresh copy, and treat the host as possibly compromised.`;
  }

  /** `member` is a bundle-root-relative path, or omitted for the bundle as a whole. */
  add(id: BundleRuleId, what: string, member?: string): void {
    const location = member === undefined ? this.base : [...this.base, member];
    this.list.push(ruleFinding(BUNDLE_RULES[id], `${what} ${this.remedy}`, location));
  }
}
