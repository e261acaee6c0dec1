// The tampering findings a bundle can raise. Ids are stable (reports, SARIF rules and
// suppressions key on them); each message says what was found and what to do about it,
// which differs between a bundle inside a k3s binary and one K3s already extracted.
import type { Finding, Location } from '../../model/inventory.ts';
import { type RuleTable, ruleFinding } from '../../model/rules/table.ts';

export const BUNDLE_RULES = {
  'K3SG-BUNDLE-HASH': { severity: 'critical', title: 'Embedded bundle does not match its name' },
  'K3SG-BUNDLE-FRAME-MISSING': { severity: 'high', title: 'Embedded bundle named but not found' },
  'K3SG-BUNDLE-UNREADABLE': { severity: 'critical', title: 'Tampered bundle cannot be read' },
  'K3SG-BUNDLE-MANIFEST-MISSING': { severity: 'high', title: 'Bundle manifest missing' },
  'K3SG-BUNDLE-MANIFEST-MALFORMED': { severity: 'high', title: 'Bundle manifest malformed' },
  'K3SG-BUNDLE-MEMBER-MODIFIED': { severity: 'critical', title: 'Bundled file differs from its manifest hash' },
  'K3SG-BUNDLE-MEMBER-MISSING': { severity: 'high', title: 'Bundled file listed in the manifest is missing' },
  'K3SG-BUNDLE-MEMBER-UNLISTED': { severity: 'high', title: 'Bundled file not listed in the manifest' },
  'K3SG-BUNDLE-MEMBER-DUPLICATE': { severity: 'high', title: 'Bundle holds the same path twice' },
  'K3SG-BUNDLE-MEMBER-SPECIAL': { severity: 'high', title: 'Bundle holds a device node, FIFO or socket' },
  'K3SG-BUNDLE-LINK-MISMATCH': { severity: 'critical', title: 'Bundled symlink differs from bin/.links' },
  'K3SG-BUNDLE-LINK-MISSING': { severity: 'high', title: 'Symlink listed in bin/.links is missing' },
  'K3SG-BUNDLE-LINK-UNLISTED': { severity: 'high', title: 'Bundled symlink not listed in bin/.links' },
  'K3SG-BUNDLE-SYMLINK-ESCAPE': { severity: 'critical', title: 'Symlink points outside the bundle' },
  'K3SG-BUNDLE-SYMLINK-LOOP': { severity: 'high', title: 'Symlinks in the bundle form a loop' },
} as const satisfies RuleTable;

export type BundleRuleId = keyof typeof BUNDLE_RULES;

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
    this.list.push(ruleFinding(BUNDLE_RULES, id, `${what} ${this.remedy}`, location));
  }
}
