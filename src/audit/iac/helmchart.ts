// HelmChart CRs (helm.cattle.io/v1, K3s's helm-controller): a chart from a repository must
// name an exact version. A chart shipped whole (`chartContent`, or `chart:` as a .tgz URL) pins
// itself. Ranges (`^1.2`, `~1`, `1.x`, `>=1`) are not versions.
import type { Node } from 'yaml';
import type { Finding } from '../../model/inventory.ts';
import { HELMCHART_VERSION } from '../../model/rules/iac.ts';
import { ruleFinding } from '../../model/rules/rule.ts';
import type { IacFile } from './context.ts';
import { get, placeOfNode, str } from './yaml-doc.ts';

const RANGE = /[*^~<>|x]|\s-\s|^$/;

export function checkHelmChart(file: IacFile, root: Node | null): Finding[] {
  const spec = get(root, 'spec');
  const name = str(get(get(root, 'metadata'), 'name')) ?? '?';
  const chart = str(get(spec, 'chart'));
  if (get(spec, 'chartContent') !== undefined) return [];
  if (chart !== undefined && /^(?:https?|oci):\/\/.*\.tgz$/.test(chart)) return [];
  const versionNode = get(spec, 'version');
  const version = str(versionNode);
  const at = placeOfNode(file, versionNode ?? get(spec, 'chart') ?? spec ?? root ?? undefined);
  const region = { file: file.path, line: at.line, column: at.column };
  if (version === undefined) {
    return [
      ruleFinding(
        HELMCHART_VERSION,
        `HelmChart ${name} installs chart ${chart ?? '?'} with no spec.version: the newest in the repository`,
        region,
      ),
    ];
  }
  if (RANGE.test(version.replace(/^v/, '').replace(/-[0-9A-Za-z.-]+$/, ''))) {
    return [
      ruleFinding(
        HELMCHART_VERSION,
        `HelmChart ${name}: version "${version}" is a range, not one chart version`,
        region,
      ),
    ];
  }
  return [];
}
