// The playbook's shape, shared by its builder (playbook.ts), its two halves
// (playbook-respond.ts, playbook-recover.ts) and its renderers.
import type { CommandId } from './k3s-commands.ts';
import type { PlaybookNode } from './playbook-node.ts';

export interface PlaybookCommand {
  run: string;
  /** The K3s command it relies on, when it is version-specific. */
  needs?: CommandId;
}

export interface PlaybookStep {
  title: string;
  why: string;
  /** Where the commands run: this node, a server, an admin workstation. */
  where: string;
  commands: PlaybookCommand[];
  /** Facts about version-specific commands: `k3s token rotate`: introduced in ... */
  versionNotes: string[];
}

export interface PlaybookPhase {
  name: string;
  steps: PlaybookStep[];
}

export interface Playbook {
  node: PlaybookNode;
  /** What the evidence shows, one line each (empty without evidence). */
  shows: string[];
  phases: PlaybookPhase[];
}

/**
 * A value from the evidence in a command a responder will paste into a shell: single-quoted
 * unless it is plainly safe, so a hostile file or node name cannot run anything. Placeholders
 * (`<NODE>`) stay as they are, to be replaced by hand.
 */
export function sh(value: string): string {
  if (/^[A-Za-z0-9._/:@+=,%-]+$/.test(value) || /^<[A-Z0-9-]+>$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export type StepSpec = Omit<PlaybookStep, 'versionNotes'> & { instead?: Partial<Record<CommandId, string>> };

/** What each half of the playbook is built with. */
export interface StepContext {
  n: PlaybookNode;
  /** A step, its version-specific commands kept only where the release has them. */
  step: (s: StepSpec) => PlaybookStep;
  server: boolean;
  /** Where server-only commands run. */
  onServer: string;
  /** The evidence file, or a placeholder. */
  ev: string;
  firstBad: string;
  /** The namespaces to isolate (placeholder when unknown). */
  namespaces: string[];
}
