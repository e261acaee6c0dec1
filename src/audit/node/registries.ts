// /etc/rancher/k3s/registries.yaml: where containerd really pulls from (mirror endpoints,
// rewrites), how it talks to them (TLS) and with which credentials. K3s reads only the first
// document; `mirrors` and `configs` are maps keyed by registry host, or "*" for every registry.
import { isScalar, isSeq, type Node } from 'yaml';
import { nodeRule } from '../../model/rules/node.ts';
import { ruleFinding } from '../../model/rules/rule.ts';
import { type NodeContext, normalizeRegistryHost, parseNodeYaml, readNodeText } from './context.ts';
import { octalMode, otherReaders, secretRegion } from './secret-file.ts';
import { entriesOf, pairOf, regionOf, scalarText, valueAt, type YamlFile } from './yamlpos.ts';

export const REGISTRIES_YAML = '/etc/rancher/k3s/registries.yaml';

const AUTH_FIELDS = ['username', 'password', 'auth', 'identity_token'];

export function checkRegistries(ctx: NodeContext): void {
  const read = readNodeText(ctx, REGISTRIES_YAML);
  if (!read) return;
  const y = parseNodeYaml(ctx, read.file, read.text);
  const doc = y.docs[0];
  if (!doc || y.errors.length > 0) return; // K3s refuses a file that does not parse: nothing is in effect
  const top = doc.contents;
  const mode = read.st.mode & 0o777;
  for (const { key: host, pair } of entriesOf(valueAt(top, 'mirrors'))) checkMirror(ctx, y, host, pair.value);
  for (const { key: host, pair } of entriesOf(valueAt(top, 'configs'))) {
    const tls = valueAt(pair.value, 'tls');
    const skip = pairOf(tls, 'insecure_skip_verify');
    if (skip && isTrue(skip.value)) {
      ctx.findings.push(
        ruleFinding(
          nodeRule('K3SG-NODE-REGISTRY-INSECURE-TLS'),
          `TLS verification is off for ${host}: any certificate is accepted, so anyone on the path can serve its images.`,
          regionOf(y, skip),
        ),
      );
    }
    const auth = pairOf(pair.value, 'auth');
    const secrets = entriesOf(auth?.value).filter((e) => AUTH_FIELDS.includes(e.key) && scalarText(e.pair.value));
    const readers = otherReaders(mode);
    if (auth && secrets.length > 0 && readers) {
      ctx.findings.push(
        ruleFinding(
          nodeRule('K3SG-NODE-REGISTRY-CREDENTIALS-READABLE'),
          `${REGISTRIES_YAML} holds the ${secrets.map((s) => s.key).join(', ')} for ${host} and has mode ${octalMode(mode)}: readable by ${readers}.`,
          secretRegion(y, auth, 'auth'),
        ),
      );
    }
  }
}

function checkMirror(ctx: NodeContext, y: YamlFile, host: string, mirror: Node | null): void {
  const endpoints = valueAt(mirror, 'endpoint');
  const items: unknown[] = isSeq(endpoints) ? endpoints.items : isScalar(endpoints) ? [endpoints] : [];
  const rewrites = entriesOf(valueAt(mirror, 'rewrite')).map(
    (e) => `"${e.key}" -> "${scalarText(e.pair.value) ?? ''}"`,
  );
  const what = host === '*' ? 'every registry' : host;
  for (const item of items) {
    const endpoint = scalarText(item);
    if (endpoint === undefined) continue;
    const node = item as Node;
    if (/^http:\/\//i.test(endpoint)) {
      ctx.findings.push(
        ruleFinding(
          nodeRule('K3SG-NODE-REGISTRY-HTTP-ENDPOINT'),
          `Images of ${what} are pulled from ${endpoint} over plain HTTP: neither the server nor the content is authenticated.`,
          regionOf(y, node),
        ),
      );
    }
    const allowed = ctx.policy?.allowedRegistries;
    const target = endpointHost(endpoint);
    if (allowed && target !== undefined && !allowed.includes(target)) {
      const renamed = rewrites.length > 0 ? `, renamed by ${rewrites.join(', ')}` : '';
      ctx.findings.push(
        ruleFinding(
          nodeRule('K3SG-NODE-REGISTRY-MIRROR-HOST'),
          `Images of ${what} are pulled from ${target}${renamed}; ${ctx.policy?.file} allows only ${allowed.join(', ') || 'nothing'}.`,
          regionOf(y, node),
        ),
      );
    }
  }
}

/** The registry host an endpoint URL names (`https://` is K3s's default scheme), normalized. */
export function endpointHost(endpoint: string): string | undefined {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? endpoint : `https://${endpoint}`;
  try {
    const host = new URL(withScheme).host;
    return host === '' ? undefined : normalizeRegistryHost(host);
  } catch {
    return undefined;
  }
}

function isTrue(node: unknown): boolean {
  return isScalar(node) && (node.value === true || node.value === 'true');
}
