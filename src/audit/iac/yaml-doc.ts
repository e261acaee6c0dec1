// YAML with source positions: every document of a file parsed once with a LineCounter; a
// document that does not parse is a per-file problem, the other documents are still checked.
// Aliases are resolved once, after parsing (`containers: [*web]` is the anchored container,
// positions and all), and `<<` merge keys are looked through by get/entries, as Kubernetes,
// GitLab and Ansible read them; the nodes reached through aliases are counted, so an alias
// bomb is a problem, not an exponential walk.
import { isMap, isScalar, isSeq, type Node, parseAllDocuments, type YAMLMap } from 'yaml';
import type { FileProblem } from '../result.ts';
import { aliasBudget, resolveAliases } from '../yaml-aliases.ts';
import type { IacFile } from './context.ts';
import { embeddedPlaces, type Place, type PlaceOf } from './text.ts';

export interface YamlDocs {
  /** The root node of each document that parsed (null for an empty one). */
  roots: Array<Node | null>;
  problems: FileProblem[];
}

// Classification may parse a file to tell Ansible from other YAML; its checker reuses that parse.
const parsed = new WeakMap<IacFile, YamlDocs>();

export function parseYaml(file: IacFile): YamlDocs {
  const cached = parsed.get(file);
  if (cached) return cached;
  const docs = parseYamlUncached(file);
  parsed.set(file, docs);
  return docs;
}

function parseYamlUncached(file: IacFile): YamlDocs {
  const roots: Array<Node | null> = [];
  const problems: FileProblem[] = [];
  const budget = aliasBudget();
  for (const doc of parseAllDocuments(file.text, { prettyErrors: false, uniqueKeys: false })) {
    const error = doc.errors[0];
    if (error) {
      const { line, column } = file.index.place(error.pos[0]);
      // The parser recurses per nesting level and reports running out of stack as an error.
      const tooDeep = error.message.startsWith('Maximum call stack size exceeded');
      problems.push({
        file: file.path,
        kind: tooDeep ? 'over-limit' : 'invalid-yaml',
        message: `${line}:${column}: ${tooDeep ? 'nested too deeply for the YAML parser' : error.message.split('\n')[0]}`,
      });
      continue;
    }
    // No `*` in the text, no alias: most files skip the walk.
    const unresolved = file.text.includes('*') ? resolveAliases(doc.contents, budget) : undefined;
    if (unresolved) {
      const { line, column } = file.index.place(unresolved.offset);
      problems.push({ file: file.path, kind: unresolved.kind, message: `${line}:${column}: ${unresolved.message}` });
      continue;
    }
    roots.push(doc.contents as Node | null);
  }
  return { roots, problems };
}

/**
 * A map and the maps its `<<` merge keys bring in, in precedence order: its own keys first,
 * then each merged map (and what it merges) in the order listed. Each map once, so merge
 * chains cost no more than the maps they name.
 */
function mapsOf(node: unknown): YAMLMap[] {
  if (!isMap(node)) return [];
  const out: YAMLMap[] = [];
  const seen = new Set<unknown>();
  const todo: unknown[] = [node];
  while (todo.length > 0) {
    const m = todo.pop();
    if (!isMap(m) || seen.has(m)) continue;
    seen.add(m);
    out.push(m as YAMLMap);
    const merged: unknown[] = [];
    for (const pair of (m as YAMLMap).items) {
      if (isMergeKey(pair.key)) merged.push(...(isSeq(pair.value) ? pair.value.items : [pair.value]));
    }
    todo.push(...merged.reverse());
  }
  return out;
}

function isMergeKey(key: unknown): boolean {
  return isScalar(key) && key.value === '<<' && key.type === 'PLAIN';
}

export function get(node: unknown, key: string): Node | undefined {
  if (!isMap(node)) return undefined;
  let merges = false;
  for (const pair of (node as YAMLMap).items) {
    if (isMergeKey(pair.key)) merges = true;
    else if (isScalar(pair.key) && pair.key.value === key) return (pair.value ?? undefined) as Node | undefined;
  }
  if (!merges) return undefined;
  for (const map of mapsOf(node).slice(1)) {
    for (const pair of map.items) {
      if (isScalar(pair.key) && pair.key.value === key && !isMergeKey(pair.key)) {
        return (pair.value ?? undefined) as Node | undefined;
      }
    }
  }
  return undefined;
}

/** The node's key/value pairs with string keys (merged ones after its own; a key once). */
export function entries(node: unknown): Array<[string, Node | undefined, Node]> {
  const out: Array<[string, Node | undefined, Node]> = [];
  const seen = new Set<string>();
  for (const map of mapsOf(node)) {
    for (const pair of map.items) {
      if (isScalar(pair.key) && typeof pair.key.value === 'string' && !isMergeKey(pair.key)) {
        if (seen.has(pair.key.value)) continue;
        seen.add(pair.key.value);
        out.push([pair.key.value, (pair.value ?? undefined) as Node | undefined, pair.key as Node]);
      }
    }
  }
  return out;
}

export function items(node: unknown): Node[] {
  return isSeq(node) ? (node.items as Node[]) : [];
}

export function str(node: unknown): string | undefined {
  if (!isScalar(node)) return undefined;
  const v = node.value;
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

export function placeOfNode(file: IacFile, node: Node | undefined): Place {
  return file.index.place(node?.range?.[0] ?? 0);
}

/** A scalar's string value with offsets mapped back into the file. */
export function scriptOf(file: IacFile, node: unknown): { text: string; placeOf: PlaceOf } | undefined {
  const text = str(node);
  if (text === undefined) return undefined;
  const start = (node as Node).range?.[0] ?? 0;
  return { text, placeOf: embeddedPlaces(text, file.index, start) };
}

/** A map of scalar values (an `env:`/`environment:`/`variables:` block) as strings. */
export function stringMap(node: unknown): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of entries(node)) {
    const s = str(v) ?? str(get(v, 'value'));
    if (s !== undefined) out.set(k, s);
  }
  return out;
}
