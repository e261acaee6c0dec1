// The agent's memory, for `ir collect`: what it found standing (with when each finding was
// first seen, the earliest being the first bad evidence a responder restores from before) and
// the events it decided but has not delivered (waiting, or refused for good, in its outbox).
// Read from the agent's on-disk formats (docs/agent.md: `state.json`, `k3sguard/agent-state@1`,
// and `outbox/<channel>/*.msg`, `k3sguard-outbox/1 <bytes> <sha256>` then the JSON payload)
// rather than through src/agent/, since one service never imports another. Anything unreadable
// is a note: evidence of a broken agent is still evidence.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseJsonText } from '../io/json-text.ts';

export interface AgentFinding {
  id: string;
  severity?: string;
  message?: string;
  location?: string[];
  firstSeen: string;
  lastSeen: string;
}

export interface AgentEventRecord {
  channel: string;
  /** `waiting` in the outbox, or `dead`: refused by the receiver for good. */
  state: 'waiting' | 'dead';
  id: string;
  enqueuedAt: string;
  status?: string;
  time?: string;
  finding?: { id?: string; message?: string };
}

export interface AgentEvidence {
  stateDir: string;
  present: boolean;
  lastCheck?: string;
  findings: AgentFinding[];
  /** Events decided by a check and not yet handed to every output. */
  pending: number;
  /** The most recent events in the outbox, oldest first. */
  events: AgentEventRecord[];
  /** The earliest firstSeen of a standing finding: when the agent first saw something wrong. */
  firstBad?: string;
  notes: string[];
}

/** Events kept per channel and state: the most recent ones; older ones are counted in a note. */
const RECENT_EVENTS = 200;
/** An outbox message larger than this is a report (an inventory), not an event: skipped. */
const MAX_MESSAGE = 1024 * 1024;
const MAX_STATE = 16 * 1024 * 1024;
const HEADER = /^k3sguard-outbox\/1 (\d{1,15}) ([0-9a-f]{64})$/;

/** `hostStateDir`: the state dir as this process reaches it (under --root). */
export function readAgentEvidence(hostStateDir: string, nodeStateDir: string): AgentEvidence {
  const out: AgentEvidence = {
    stateDir: nodeStateDir,
    present: false,
    findings: [],
    pending: 0,
    events: [],
    notes: [],
  };
  const stateFile = join(hostStateDir, 'state.json');
  try {
    if (statSync(stateFile).size > MAX_STATE)
      out.notes.push(`${nodeStateDir}/state.json: larger than ${MAX_STATE} bytes, not read`);
    else readState(readFileSync(stateFile, 'utf8'), out, nodeStateDir);
    out.present = true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
      out.notes.push(`${nodeStateDir}/state.json: ${(e as Error).message}`);
  }
  for (const channel of listDir(join(hostStateDir, 'outbox'))) {
    for (const [state, sub] of [
      ['waiting', ''],
      ['dead', 'dead'],
    ] as const) {
      const dir = join(hostStateDir, 'outbox', channel, sub);
      const names = listDir(dir).filter((n) => n.endsWith('.msg'));
      if (names.length === 0) continue;
      out.present = true;
      if (names.length > RECENT_EVENTS) {
        out.notes.push(`outbox/${channel}/${sub}: ${names.length - RECENT_EVENTS} older messages not read`);
      }
      for (const name of names.slice(-RECENT_EVENTS)) {
        const ev = readMessage(join(dir, name), channel, state);
        if (typeof ev === 'string') out.notes.push(`outbox/${channel}/${sub ? `${sub}/` : ''}${name}: ${ev}`);
        else if (ev) out.events.push(ev);
      }
    }
  }
  out.events.sort((a, b) => (a.enqueuedAt < b.enqueuedAt ? -1 : a.enqueuedAt > b.enqueuedAt ? 1 : 0));
  const first = out.findings.map((f) => f.firstSeen).sort()[0];
  if (first !== undefined) out.firstBad = first;
  return out;
}

function readState(text: string, out: AgentEvidence, nodeStateDir: string): void {
  let json: {
    schema?: unknown;
    lastCheck?: unknown;
    findings?: Array<{ firstSeen?: unknown; lastSeen?: unknown; finding?: Record<string, unknown> }>;
    pending?: unknown[];
  };
  try {
    json = parseJsonText(text) as typeof json;
  } catch {
    out.notes.push(`${nodeStateDir}/state.json: not JSON (or nested too deeply)`);
    return;
  }
  if (json?.schema !== 'k3sguard/agent-state@1' || !Array.isArray(json.findings)) {
    out.notes.push(`${nodeStateDir}/state.json: not a k3sguard/agent-state@1 document`);
    return;
  }
  if (typeof json.lastCheck === 'string') out.lastCheck = json.lastCheck;
  out.pending = Array.isArray(json.pending) ? json.pending.length : 0;
  for (const t of json.findings) {
    const f = t?.finding;
    if (typeof t?.firstSeen !== 'string' || typeof t.lastSeen !== 'string' || typeof f?.id !== 'string') continue;
    out.findings.push({
      id: f.id,
      ...(typeof f.severity === 'string' ? { severity: f.severity } : {}),
      ...(typeof f.message === 'string' ? { message: f.message } : {}),
      ...(Array.isArray(f.location) ? { location: f.location.map(String) } : {}),
      firstSeen: t.firstSeen,
      lastSeen: t.lastSeen,
    });
  }
}

function readMessage(file: string, channel: string, state: 'waiting' | 'dead'): AgentEventRecord | string | undefined {
  let data: Buffer;
  try {
    if (statSync(file).size > MAX_MESSAGE) return undefined;
    data = readFileSync(file);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? 'unreadable';
  }
  const nl = data.subarray(0, 128).indexOf(0x0a);
  const m = nl < 0 ? null : HEADER.exec(data.subarray(0, nl).toString('latin1'));
  if (!m) return 'not an outbox message';
  const payload = data.subarray(nl + 1);
  if (payload.length !== Number(m[1]) || createHash('sha256').update(payload).digest('hex') !== m[2]) {
    return 'torn or damaged (length or sha256 differs from its header)';
  }
  let record: { id?: unknown; kind?: unknown; enqueuedAt?: unknown; body?: unknown };
  let body: { status?: unknown; time?: unknown; finding?: { id?: unknown; message?: unknown } };
  try {
    record = parseJsonText(payload.toString('utf8')) as typeof record;
    if (record?.kind !== 'event') return undefined; // a report: an inventory, not an event
    body = parseJsonText(String(record.body)) as typeof body;
  } catch {
    return 'payload is not JSON';
  }
  return {
    channel,
    state,
    id: String(record.id),
    enqueuedAt: String(record.enqueuedAt),
    ...(typeof body?.status === 'string' ? { status: body.status } : {}),
    ...(typeof body?.time === 'string' ? { time: body.time } : {}),
    ...(body?.finding
      ? {
          finding: {
            ...(typeof body.finding.id === 'string' ? { id: body.finding.id } : {}),
            ...(typeof body.finding.message === 'string' ? { message: body.finding.message } : {}),
          },
        }
      : {}),
  };
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory() || d.isFile())
      .map((d) => d.name)
      .filter((n) => n !== 'dead' && n !== 'corrupt')
      .sort();
  } catch {
    return [];
  }
}
