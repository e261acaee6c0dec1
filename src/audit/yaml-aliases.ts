// YAML aliases, resolved once after parsing, for the audits: a check that asks for
// `containers` must find the anchored list behind `containers: *pods`, at the anchor's
// position. Each alias is replaced by the node its anchor names, so the document becomes a
// graph without cycles; the nodes reached through aliases are counted against a budget, so an
// alias bomb (a "billion laughs" document) is refused instead of walked.
import { isAlias, isCollection, isMap, isSeq } from 'yaml';
import { LIMITS } from '../model/limits.ts';
import type { FileProblemKind } from './result.ts';

/** What one file may reach through aliases, over all its documents. */
export interface AliasBudget {
  left: number;
}

export function aliasBudget(nodes: number = LIMITS.yamlAliasNodes): AliasBudget {
  return { left: nodes };
}

/** Why a document's aliases were not resolved, and where (an offset in the text). */
export interface AliasProblem {
  kind: FileProblemKind;
  message: string;
  offset: number;
}

type Slot = [holder: Record<string | number, unknown>, key: string | number];

/**
 * Replace every alias of a document by the node its anchor names (the last such anchor before
 * it, as YAML says), in one pass in document order with an explicit stack (no recursion on
 * nesting). `budget.left` goes down by the size each alias stands for, as if written out.
 */
export function resolveAliases(root: unknown, budget: AliasBudget): AliasProblem | undefined {
  if (!isCollection(root)) return undefined;
  const anchors = new Map<string, unknown>();
  // Anchored nodes whose subtree is done, with their size once aliases are written out.
  const sizes = new Map<unknown, number>();
  const stack: Array<{ node: unknown; slots: Slot[]; next: number; size: number }> = [];
  const enter = (node: unknown) => {
    const anchor = (node as { anchor?: string }).anchor;
    if (anchor) anchors.set(anchor, node);
  };
  enter(root);
  stack.push({ node: root, slots: slotsOf(root), next: 0, size: 1 });
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as (typeof stack)[number];
    const slot = top.slots[top.next++];
    if (slot === undefined) {
      stack.pop();
      if ((top.node as { anchor?: string }).anchor) sizes.set(top.node, top.size);
      const parent = stack[stack.length - 1];
      if (parent) parent.size += top.size;
      continue;
    }
    const [holder, key] = slot;
    const child = holder[key];
    if (isAlias(child)) {
      const target = anchors.get(child.source);
      if (target === undefined) continue; // an alias to nothing names nothing to check
      const size = sizes.get(target);
      const offset = child.range?.[0] ?? 0;
      if (size === undefined) {
        return { kind: 'invalid-yaml', message: `alias *${child.source} is inside the node it names`, offset };
      }
      budget.left -= size;
      if (budget.left < 0) {
        return {
          kind: 'over-limit',
          message: `aliases stand for more than ${LIMITS.yamlAliasNodes} nodes (an alias bomb?): not expanded`,
          offset,
        };
      }
      holder[key] = target;
      top.size += size;
    } else if (isCollection(child)) {
      enter(child);
      stack.push({ node: child, slots: slotsOf(child), next: 0, size: 1 });
    } else if (child !== null && child !== undefined) {
      enter(child);
      if ((child as { anchor?: string }).anchor) sizes.set(child, 1);
      top.size += 1;
    }
  }
  return undefined;
}

function slotsOf(node: unknown): Slot[] {
  if (isSeq(node)) return node.items.map((_, i): Slot => [node.items as unknown as Slot[0], i]);
  if (isMap(node)) {
    return node.items.flatMap((pair): Slot[] => {
      const holder = pair as unknown as Slot[0];
      return [
        [holder, 'key'],
        [holder, 'value'],
      ];
    });
  }
  return [];
}
