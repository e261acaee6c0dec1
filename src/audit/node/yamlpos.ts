// YAML with source positions: every node keeps its byte range, a LineCounter turns offsets
// into the 1-based line/column SARIF wants, and the line's text becomes the snippet.
import {
  type Document,
  isMap,
  isScalar,
  LineCounter,
  type Node,
  type Pair,
  parseAllDocuments,
  type YAMLMap,
} from 'yaml';
import type { SourceRegion } from '../../model/inventory.ts';
import { aliasBudget, resolveAliases } from '../yaml-aliases.ts';

export interface YamlFile {
  file: string;
  text: string;
  lines: LineCounter;
  /** The documents that parsed; a document with errors is left out (and described in `errors`). */
  docs: Document.Parsed[];
  /** `line:col: message` of the first error of each document that did not parse. */
  errors: string[];
}

/** Parse every document of a file; `file` is its name relative to the audit root. */
export function parseYaml(file: string, text: string): YamlFile {
  const lines = new LineCounter();
  const docs: Document.Parsed[] = [];
  const errors: string[] = [];
  // Nesting past the parser's stack is one of its errors ("Maximum call stack size exceeded").
  const parsed = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const all = Array.isArray(parsed) ? parsed : [];
  const budget = aliasBudget();
  for (const doc of all) {
    const error = doc.errors[0];
    // No `*` in the text, no alias: most files skip the walk.
    const unresolved = error || !text.includes('*') ? undefined : resolveAliases(doc.contents, budget);
    if (error) {
      const { line, col } = lines.linePos(error.pos[0]);
      errors.push(`${line}:${col}: ${error.message.split('\n')[0]}`);
    } else if (unresolved) {
      const { line, col } = lines.linePos(unresolved.offset);
      errors.push(`${line}:${col}: ${unresolved.message}`);
    } else {
      docs.push(doc);
    }
  }
  return { file, text, lines, docs, errors };
}

/** Where a node (or a key with its value) is: start, end, and the first line's text. */
export function regionOf(y: YamlFile, node: Node | Pair | null | undefined): SourceRegion {
  const range = rangeOf(node);
  const start = y.lines.linePos(range[0]);
  const end = y.lines.linePos(Math.max(range[0], range[1]));
  const lineStart = y.lines.lineStarts[start.line - 1] ?? 0;
  const nextLine = y.text.indexOf('\n', lineStart);
  const snippet = y.text.slice(lineStart, nextLine < 0 ? undefined : nextLine).replace(/\r$/, '');
  return { file: y.file, line: start.line, column: start.col, endLine: end.line, endColumn: end.col, snippet };
}

function rangeOf(node: Node | Pair | null | undefined): [number, number] {
  if (!node) return [0, 0];
  if ('range' in node && node.range) return [node.range[0], node.range[1]];
  const pair = node as Pair;
  const key = rangeOf(pair.key as Node | null);
  const value = pair.value ? rangeOf(pair.value as Node) : key;
  return [key[0], value[1]];
}

/** The pair of a string key in a mapping, if the node is a mapping and has it. */
export function pairOf(node: unknown, key: string): Pair<Node, Node | null> | undefined {
  if (!isMap(node)) return undefined;
  return (node as YAMLMap<Node, Node | null>).items.find((p) => isScalar(p.key) && String(p.key.value) === key);
}

/** The value under a string key. */
export function valueAt(node: unknown, key: string): Node | null | undefined {
  return pairOf(node, key)?.value;
}

/** The pairs of a mapping whose keys are scalars, with the key as a string. */
export function entriesOf(node: unknown): Array<{ key: string; pair: Pair<Node, Node | null> }> {
  if (!isMap(node)) return [];
  return (node as YAMLMap<Node, Node | null>).items.flatMap((pair) =>
    isScalar(pair.key) && pair.key.value !== null ? [{ key: String(pair.key.value), pair }] : [],
  );
}

/** A scalar's string value (numbers and booleans as YAML wrote them), or undefined. */
export function scalarText(node: unknown): string | undefined {
  if (!isScalar(node) || node.value === null || node.value === undefined) return undefined;
  return typeof node.value === 'string' ? node.value : (node.source ?? String(node.value));
}
