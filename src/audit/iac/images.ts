// Image references wherever infrastructure code names one: pinned by digest, and (with a
// policy) from an allowed registry and repository. References that are templates
// (`{{ .Values.image }}`, `${IMAGE}`) name nothing yet and are left alone.

import type { Finding } from '../../model/inventory.ts';
import { IMAGE_REGISTRY, IMAGE_TAG } from '../../model/rules/iac.ts';
import { ruleFinding } from '../../model/rules/rule.ts';
import { globMatches } from '../../policy/glob.ts';
import type { ImagePolicy } from '../../policy/image-policy.ts';
import { parseImageRef } from '../../readers/images/refs.ts';
import type { Place } from './text.ts';

const TEMPLATE = /\{\{|\$\{|\$[A-Za-z_(]|%\{|<%/;

export function checkImage(
  text: string,
  at: Place,
  file: string,
  policy: ImagePolicy | undefined,
  what: string,
): Finding[] {
  if (TEMPLATE.test(text)) return [];
  const ref = parseImageRef(text);
  if (!ref) return [];
  const region = { file, line: at.line, column: at.column };
  const out: Finding[] = [];
  if (!ref.digest) {
    out.push(
      ruleFinding(IMAGE_TAG, `${what} ${text} is pulled by tag (${ref.tag ?? 'latest'}), not by digest`, region),
    );
  }
  if (policy) {
    const registry = ref.repository.slice(0, ref.repository.indexOf('/'));
    if (policy.allowedRegistries && !policy.allowedRegistries.includes(registry)) {
      out.push(
        ruleFinding(
          IMAGE_REGISTRY,
          `${what} ${text} comes from ${registry}; ${policy.file} allows ${policy.allowedRegistries.join(', ')}`,
          region,
        ),
      );
    } else if (policy.allowedRepositories && !policy.allowedRepositories.some((g) => globMatches(g, ref.repository))) {
      out.push(
        ruleFinding(
          IMAGE_REGISTRY,
          `${what} ${text}: repository ${ref.repository} matches no allowedRepositories of ${policy.file}`,
          region,
        ),
      );
    }
  }
  return out;
}
