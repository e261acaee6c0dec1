// YAML with source positions: every document of a file parsed once with a LineCounter; a
// document that does not parse is a per-file problem, the other documents are still checked.
import { isMap, isScalar, isSeq, type Node, parseAllDocuments, type YAMLMap } from 'yaml';
import type { FileProblem } from '../result.ts';
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
  for (const doc of parseAllDocuments(file.text, { prettyErrors: false, uniqueKeys: false })) {
    const error = doc.errors[0];
    if (error) {
      const { line, column } = file.index.place(error.pos[0]);
      problems.push({
        file: file.path,
        kind: 'invalid-yaml',
        message: `${line}:${column}: ${error.message.split('\n')[0]}`,
      });
      continue;
    }
    roots.push(doc.contents as Node | null);
  }
  return { roots, problems };
}

export function get(node: unknown, key: string): Node | undefined {
  if (!isMap(node)) return undefined;
  for (const pair of (node as YAMLMap).items) {
    if (isScalar(pair.key) && pair.key.value === key) return (pair.value ?? undefined) as Node | undefined;
  }
  return undefined;
}

/** The node's key/value pairs with string keys. */
export function entries(node: unknown): Array<[string, Node | undefined, Node]> {
  if (!isMap(node)) return [];
  const out: Array<[string, Node | undefined, Node]> = [];
  for (const pair of (node as YAMLMap).items) {
    if (isScalar(pair.key) && typeof pair.key.value === 'string') {
      out.push([pair.key.value, (pair.value ?? undefined) as Node | undefined, pair.key as Node]);
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
