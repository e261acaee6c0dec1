// Kubernetes manifests (any multi-document YAML with apiVersion and kind): every container
// image of a pod spec, wherever the workload kind nests it, and the K3s-specific CRs:
// HelmChart (helmchart.ts) and system-upgrade-controller Plans (plan.ts).
import type { Node } from 'yaml';
import type { Finding } from '../../model/inventory.ts';
import type { CheckOutput, IacFile, IacOptions } from './context.ts';
import { checkHelmChart } from './helmchart.ts';
import { checkImage } from './images.ts';
import { checkPlan } from './plan.ts';
import { entries, get, items, parseYaml, placeOfNode, str } from './yaml-doc.ts';

const CONTAINER_LISTS = ['containers', 'initContainers', 'ephemeralContainers'];

export function isManifest(root: unknown): boolean {
  return str(get(root, 'apiVersion')) !== undefined && str(get(root, 'kind')) !== undefined;
}

export function checkKubernetes(file: IacFile, opts: IacOptions): CheckOutput {
  const { roots, problems } = parseYaml(file);
  const findings: Finding[] = [];
  for (const root of roots) checkObject(file, opts, root, findings);
  return { findings, problems };
}

function checkObject(file: IacFile, opts: IacOptions, root: Node | null, findings: Finding[]): void {
  const kind = str(get(root, 'kind'));
  const apiVersion = str(get(root, 'apiVersion')) ?? '';
  if (kind === 'List') {
    for (const item of items(get(root, 'items'))) checkObject(file, opts, item, findings);
    return;
  }
  if (kind === 'HelmChart' && apiVersion.startsWith('helm.cattle.io/')) findings.push(...checkHelmChart(file, root));
  if (kind === 'Plan' && apiVersion.startsWith('upgrade.cattle.io/')) findings.push(...checkPlan(file, opts, root));
  findPodSpecs(root, (spec) => {
    for (const list of CONTAINER_LISTS) {
      for (const c of items(get(spec, list))) {
        const image = get(c, 'image');
        const text = str(image);
        if (text === undefined) continue;
        const name = str(get(c, 'name')) ?? '?';
        findings.push(
          ...checkImage(text, placeOfNode(file, image), file.path, opts.policy, `container ${name}: image`),
        );
      }
    }
  });
}

/** Every map that has a containers list: Pod spec, template.spec, jobTemplate.spec.template.spec, ... */
function findPodSpecs(node: unknown, visit: (spec: Node) => void, depth = 0): void {
  if (depth > 12) return;
  if (get(node, 'containers') !== undefined || get(node, 'initContainers') !== undefined) visit(node as Node);
  for (const [key, value] of entries(node)) {
    if (CONTAINER_LISTS.includes(key)) continue;
    if (key === 'spec' || key === 'template' || key === 'jobTemplate') findPodSpecs(value, visit, depth + 1);
  }
}
