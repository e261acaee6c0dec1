// What the agent remembers between checks, and across restarts: every finding standing, by its
// stable key, with when it was first and last seen, plus the events decided but not yet handed
// to the outputs. Each check is compared with it: only what is new and what was resolved
// becomes an event, so a finding known before a restart is not announced again.
//
// The event id is a function of the key, the status and the first-seen time: the same event
// sent again (after a crash) carries the same id, and a receiver dedupes on it. The state is
// written before the events are handed on (tmp file, fsync, rename, fsync of the directory),
// so a kill between the two finds them in `pending` at the next start, never recomputed with
// a new first-seen time (which would give them new ids).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurably } from '../io/durable-file.ts';
import { errnoOf } from '../io/fs-error.ts';
import { InputError } from '../model/errors.ts';
import type { Finding } from '../model/inventory.ts';

export const STATE_SCHEMA = 'k3sguard/agent-state@1';
export const EVENT_SCHEMA = 'k3sguard/event@1';

/** Which check raised a finding: a check that could not run leaves its findings as they were. */
export type FindingSource = 'node' | 'processes' | 'containerd';

export interface TrackedFinding {
  key: string;
  source: FindingSource;
  firstSeen: string;
  lastSeen: string;
  finding: Finding;
}

export interface AgentEvent {
  schema: typeof EVENT_SCHEMA;
  id: string;
  type: 'finding';
  status: 'new' | 'resolved';
  /** The check that decided it. */
  time: string;
  node: { hostname: string; machineId?: string };
  key: string;
  firstSeen: string;
  lastSeen: string;
  finding: Finding;
}

export interface AgentState {
  schema: typeof STATE_SCHEMA;
  lastCheck?: string;
  findings: TrackedFinding[];
  /** Events decided by a check and not yet handed to every output. */
  pending: AgentEvent[];
}

/** sha256 of rule id, location and region file: what a finding is about, never when or how often. */
export function stableKey(f: Finding): string {
  return createHash('sha256')
    .update(`${f.id}\0${f.location.join('/')}\0${f.region?.file ?? ''}`)
    .digest('hex');
}

export function eventId(key: string, status: AgentEvent['status'], firstSeen: string): string {
  return createHash('sha256').update(`${key}\0${status}\0${firstSeen}`).digest('hex');
}

export interface Observation {
  /** Findings of each check that ran; a source left out did not run this time. */
  findings: Partial<Record<FindingSource, Finding[]>>;
  at: string;
  node: AgentEvent['node'];
}

/** The state after a check, and the events it brings (new first, then resolved, each in key order). */
export function observe(prev: AgentState, obs: Observation): { state: AgentState; events: AgentEvent[] } {
  const before = new Map(prev.findings.map((t) => [t.key, t]));
  const now = new Map<string, TrackedFinding>();
  const events: AgentEvent[] = [];
  const event = (status: AgentEvent['status'], t: TrackedFinding): AgentEvent => ({
    schema: EVENT_SCHEMA,
    id: eventId(t.key, status, t.firstSeen),
    type: 'finding',
    status,
    time: obs.at,
    node: obs.node,
    key: t.key,
    firstSeen: t.firstSeen,
    lastSeen: t.lastSeen,
    finding: t.finding,
  });
  const fresh: TrackedFinding[] = [];
  for (const source of Object.keys(obs.findings) as FindingSource[]) {
    for (const finding of obs.findings[source] ?? []) {
      const key = stableKey(finding);
      if (now.has(key)) continue; // one subject, one rule: reported once
      const known = before.get(key);
      const t: TrackedFinding = known
        ? { ...known, source, lastSeen: obs.at, finding }
        : { key, source, firstSeen: obs.at, lastSeen: obs.at, finding };
      now.set(key, t);
      if (!known) fresh.push(t);
    }
  }
  const resolved: TrackedFinding[] = [];
  for (const t of prev.findings) {
    if (now.has(t.key)) continue;
    if (obs.findings[t.source] === undefined)
      now.set(t.key, t); // its check did not run: still standing
    else resolved.push(t);
  }
  const byKey = (a: TrackedFinding, b: TrackedFinding) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  for (const t of fresh.sort(byKey)) events.push(event('new', t));
  for (const t of resolved.sort(byKey)) events.push(event('resolved', { ...t }));
  const state: AgentState = {
    schema: STATE_SCHEMA,
    lastCheck: obs.at,
    findings: [...now.values()].sort(byKey),
    pending: [...prev.pending, ...events],
  };
  return { state, events };
}

/** The state file in the state dir: read at start, replaced whole after each check. */
export class StateStore {
  readonly dir: string;
  readonly file: string;

  constructor(dir: string) {
    this.dir = dir;
    this.file = join(dir, 'state.json');
  }

  /** The last state written; a first start (no file) is an empty state. */
  load(): AgentState {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (e) {
      if (errnoOf(e) === 'ENOENT') return { schema: STATE_SCHEMA, findings: [], pending: [] };
      throw new InputError('UNREADABLE', this.file, `cannot read the agent state (${errnoOf(e)})`);
    }
    let json: AgentState;
    try {
      json = JSON.parse(text) as AgentState;
    } catch (e) {
      throw new InputError(
        'CONFIG_INVALID',
        this.file,
        `the agent state is not JSON (${(e as Error).message}): move it aside to start afresh`,
      );
    }
    if (json?.schema !== STATE_SCHEMA || !Array.isArray(json.findings) || !Array.isArray(json.pending)) {
      throw new InputError(
        'CONFIG_INVALID',
        this.file,
        `not a ${STATE_SCHEMA} document: move it aside to start afresh`,
      );
    }
    return json;
  }

  /** Replace the state: a crash leaves the old file or the new one, never a torn one. */
  save(state: AgentState): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    writeFileDurably(this.file, `${JSON.stringify(state)}\n`);
  }
}
