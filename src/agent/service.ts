// The agent as a service: a check at start, then one at every interval and one a few seconds
// after any watched file changes; each check's findings compared with the state, what is new
// or resolved handed to every output (JSON lines on stdout, and the outbox the senders
// deliver from), the state saved around it so nothing decided is lost or decided twice.
// Checks never overlap: a trigger during a check runs one more check after it.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { TOOL_VERSION } from '../io/tool-version.ts';
import { isInputError } from '../model/errors.ts';
import { nothingAudited } from '../report/audit.ts';
import { type AgentCheck, type ContainerdCheck, runCheck } from './check.ts';
import type { AgentConfig } from './config.ts';
import { FULL_AUDIT_MS, nodeFingerprint } from './fingerprint.ts';
import { type AgentInputs, loadAgentInputs } from './inputs.ts';
import { buildReport, type NodeReport, nodeIdentity } from './report.ts';
import { type AgentEvent, EVENT_SCHEMA, observe, StateStore } from './state.ts';
import { currentBundle, NodeWatcher, nodeWatchTargets, shownPath } from './watch.ts';

export interface AgentIo {
  /** One JSON document on one line of stdout. */
  line(text: string): void;
  /** One line for the operator (stderr). */
  log(text: string): void;
}

/** Where events and reports go besides stdout: the outbox senders (see outputs.ts). */
export interface AgentSinks {
  /**
   * Durable before it returns: the event is sent (again, after a crash) until acknowledged.
   * `again`: an event a killed run decided, which may already wait in the outbox.
   */
  event(event: AgentEvent | StatusEvent, again?: boolean): void;
  report(report: NodeReport, id: string): void;
  /** After each check, for metrics. */
  checked(check: AgentCheck, report: NodeReport, durationMs: number): void;
  close(): Promise<void>;
}

/** containerd stopped answering, or answers again. */
export interface StatusEvent {
  schema: typeof EVENT_SCHEMA;
  id: string;
  type: 'status';
  component: 'containerd';
  ok: boolean;
  message: string;
  time: string;
  node: AgentEvent['node'];
}

export interface AgentDeps {
  containerd: ContainerdCheck;
  sinks?: AgentSinks;
  now?: () => Date;
}

/** One check, no state kept: `--once`. `nothingAudited`: no K3s node file could be read under the root. */
export async function checkOnce(
  config: AgentConfig,
  deps: AgentDeps,
): Promise<{ report: NodeReport; nothingAudited: boolean }> {
  const inputs = loadAgentInputs(config);
  const check = await runCheck({
    config,
    inputs,
    containerd: deps.containerd,
    digestCache: new Map(),
    imageCacheDir: join(config.stateDir, 'images'),
    ...(deps.now ? { now: deps.now } : {}),
  });
  const at = check.finishedAt.toISOString();
  const identity = nodeIdentity(config.root);
  const { state } = observe(
    { schema: 'k3sguard/agent-state@1', findings: [], pending: [] },
    { findings: check.bySource, at, node: identity },
  );
  return {
    report: buildReport(check, state.findings, identity, TOOL_VERSION),
    nothingAudited: nothingAudited(check.node),
  };
}

export interface RunningAgent {
  /** Ends the loop: the check in progress finishes, its events are handed on, outputs close. */
  stop(): Promise<void>;
  /** Resolves after the next check completes (tests, and the first check at start). */
  nextCheck(): Promise<void>;
}

export async function startAgent(config: AgentConfig, io: AgentIo, deps: AgentDeps): Promise<RunningAgent> {
  // Broken inputs stop the start (exit 2); later they only keep the last good ones.
  let inputs: AgentInputs = loadAgentInputs(config);
  const store = new StateStore(config.stateDir);
  let state = store.load();
  const identity = nodeIdentity(config.root);
  const now = deps.now ?? (() => new Date());
  const digestCache = new Map<string, string>();
  let containerdOk: boolean | undefined;
  let stopping = false;
  let running: Promise<void> | undefined;
  let again: string[] | undefined;
  let timer: NodeJS.Timeout | undefined;
  let waiters: Array<() => void> = [];
  let checksDone = 0;
  let lastAudit: { node: AgentCheck['nodeRaw']; fingerprint: string; at: number } | undefined;
  const fingerprint = () => {
    const bundle = currentBundle(config.root, config.dataDir);
    return nodeFingerprint(
      [...nodeWatchTargets(config.root, config.dataDir), ...(bundle ? [{ dir: bundle, recursive: true }] : [])],
      [config.lock, config.policy].filter((f): f is string => f !== undefined),
    );
  };

  // Handing on and clearing `pending` happen in one synchronous stretch, so no sender can have
  // delivered (and removed) an event before the state says it was handed on.
  const hand = (events: AgentEvent[], resent = false) => {
    for (const e of events) {
      deps.sinks?.event(e, resent);
      io.line(JSON.stringify(e));
    }
  };
  // Events a killed run decided: those it queued are queued once, the others now.
  if (state.pending.length > 0) {
    hand(state.pending, true);
    state = { ...state, pending: [] };
    store.save(state);
  }

  const status = (ok: boolean, message: string, at: string) => {
    if (containerdOk === ok) return;
    const first = containerdOk === undefined;
    containerdOk = ok;
    if (first && ok) return;
    const event: StatusEvent = {
      schema: EVENT_SCHEMA,
      id: createHash('sha256').update(`containerd\0${ok}\0${at}`).digest('hex'),
      type: 'status',
      component: 'containerd',
      ok,
      message,
      time: at,
      node: identity,
    };
    deps.sinks?.event(event);
    io.line(JSON.stringify(event));
  };

  const checkNow = async (trigger: string[]) => {
    try {
      inputs = loadAgentInputs(config);
    } catch (e) {
      if (!isInputError(e)) throw e;
      io.log(`k3sguard agent: ${e.oneLine()} (checking with the last good policy and lock)`);
    }
    // Taken before the audit: a change made while it reads is seen by the next check.
    const print = fingerprint();
    const unchanged =
      lastAudit !== undefined &&
      print !== undefined &&
      print === lastAudit.fingerprint &&
      Date.now() - lastAudit.at < FULL_AUDIT_MS;
    const check = await runCheck({
      config,
      inputs,
      containerd: deps.containerd,
      digestCache,
      imageCacheDir: join(config.stateDir, 'images'),
      now,
      ...(unchanged && lastAudit ? { reuseNode: lastAudit.node } : {}),
    });
    if (!unchanged)
      lastAudit = print === undefined ? undefined : { node: check.nodeRaw, fingerprint: print, at: Date.now() };
    const at = check.finishedAt.toISOString();
    const observed = observe(state, { findings: check.bySource, at, node: identity });
    state = observed.state;
    store.save(state); // the events are in `pending` before anyone hears of them
    hand(state.pending);
    state = { ...state, pending: [] };
    store.save(state);
    const c = check.containerd.containerd;
    status(c.ok, c.ok ? `containerd ${c.version} answers again` : `${c.code}: ${c.message}`, at);
    const report = buildReport(check, state.findings, identity, TOOL_VERSION);
    const durationMs = check.finishedAt.getTime() - check.startedAt.getTime();
    deps.sinks?.checked(check, report, durationMs);
    // Sent when something changed, and at the first check of each run (a server that missed
    // the node while it was down gets the whole picture again).
    if (observed.events.length > 0 || checksDone === 0) {
      const id = createHash('sha256')
        .update(`report\0${identity.machineId ?? identity.hostname}\0${at}`)
        .digest('hex');
      deps.sinks?.report(report, id);
    }
    checksDone += 1;
    io.line(
      JSON.stringify({
        schema: EVENT_SCHEMA,
        type: 'check',
        time: at,
        durationMs,
        trigger: trigger.map((p) => shownPath(config.root, p)),
        nodeAudit: check.nodeReused ? 'unchanged' : 'audited',
        findings: state.findings.length,
        new: observed.events.filter((e) => e.status === 'new').length,
        resolved: observed.events.filter((e) => e.status === 'resolved').length,
        containerd: c.ok,
        problems: check.problems.length,
      }),
    );
  };

  const schedule = () => {
    clearTimeout(timer);
    if (!stopping) timer = setTimeout(() => trigger(['interval']), config.intervalMs);
  };

  const trigger = (why: string[]) => {
    if (stopping) return;
    if (running) {
      again = [...(again ?? []), ...why];
      return;
    }
    running = (async () => {
      let next: string[] | undefined = why;
      while (next && !stopping) {
        again = undefined;
        try {
          await checkNow(next);
        } catch (e) {
          // A bug or an I/O failure of the state dir: said, and the next trigger tries again.
          const msg = e instanceof Error ? e.message : String(e);
          io.log(`k3sguard agent: check failed: ${msg.replace(/\s*\n\s*/g, ' ')}`);
        }
        watcher.rearm();
        const done = waiters;
        waiters = [];
        for (const w of done) w();
        next = again;
      }
      running = undefined;
      schedule();
    })();
  };

  const watcher = new NodeWatcher(() => nodeWatchTargets(config.root, config.dataDir), config.debounceMs, trigger);
  watcher.rearm();
  trigger(['start']);

  return {
    nextCheck: () => new Promise<void>((resolve) => waiters.push(resolve)),
    async stop() {
      stopping = true;
      clearTimeout(timer);
      watcher.close();
      await running;
      for (const w of waiters) w();
      await deps.sinks?.close();
    },
  };
}
