// The agent's core, piece by piece with real inputs: the config (flags over agent.yaml, strict
// with file:line:col), the state (what is new and resolved, stable ids, a restart), the process
// check on real processes, and the report of a real node tree against docs/report-schema.json.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadAgentConfig, parseDuration } from '../../src/agent/config.ts';
import { nodeFingerprint } from '../../src/agent/fingerprint.ts';
import { startOutputs } from '../../src/agent/outputs.ts';
import { buildReport, type InventoryEntry, nodeIdentity, reportTable } from '../../src/agent/report.ts';
import { checkOnce } from '../../src/agent/service.ts';
import { type AgentState, eventId, observe, StateStore, stableKey } from '../../src/agent/state.ts';
import { checkContainerd } from '../../src/audit/runtime/containerd.ts';
import { checkProcesses } from '../../src/audit/runtime/processes.ts';
import { isInputError } from '../../src/model/errors.ts';
import type { Finding } from '../../src/model/inventory.ts';
import type { ReportComponents } from '../../src/model/report-components.ts';
import { serializeLock } from '../../src/verify/lock/format.ts';
import { goodNode, installK3s, k3sBinary, LOCKED_FILES, lockOf, POLICY_YAML } from '../audit/node/node-fixtures.ts';
import { tempDir } from '../cli/run.ts';
import { reportSchemaErrors } from '../report/schemas.ts';

function configError(t: { after: (fn: () => void) => void }, yaml: string): string {
  const dir = tempDir(t);
  const file = join(dir, 'agent.yaml');
  writeFileSync(file, yaml);
  try {
    loadAgentConfig({ config: file });
  } catch (e) {
    assert.ok(isInputError(e) && e.code === 'CONFIG_INVALID', String(e));
    return e.message.replace(`${file}:`, 'agent.yaml:');
  }
  assert.fail('no error');
}

const HEAD = 'apiVersion: k3sguard.dev/v1\nkind: AgentConfig\n';

test('config: defaults, the file, flags over the file', (t) => {
  const d = loadAgentConfig({});
  assert.equal(d.root, '/');
  assert.equal(d.dataDir, '/var/lib/rancher/k3s');
  assert.equal(d.containerdSocket, '/run/k3s/containerd/containerd.sock');
  assert.equal(d.containerdRoot, '/var/lib/rancher/k3s/agent/containerd');
  assert.equal(d.stateDir, '/var/lib/k3sguard');
  assert.equal(d.intervalMs, 300_000);
  assert.equal(d.listen, '127.0.0.1:9464');
  assert.equal(d.once, false);
  const dir = tempDir(t);
  const file = join(dir, 'agent.yaml');
  writeFileSync(
    file,
    `${HEAD}root: /host\ninterval: 30s\nlock: /etc/k3sguard/k3sguard.lock\nwebhook:\n  url: https://alerts.example.com/k3s\n  secretFile: /etc/k3sguard/hook.key\n`,
  );
  const c = loadAgentConfig({ config: file, interval: '1m', once: true });
  assert.equal(c.root, '/host');
  assert.equal(c.containerdSocket, '/host/run/k3s/containerd/containerd.sock');
  assert.equal(c.proc, '/host/proc');
  assert.equal(c.intervalMs, 60_000); // the flag wins
  assert.equal(c.lock, '/etc/k3sguard/k3sguard.lock');
  assert.deepEqual(c.webhook, { url: 'https://alerts.example.com/k3s', secretFile: '/etc/k3sguard/hook.key' });
  assert.equal(c.once, true);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('0s'), undefined);
  assert.equal(parseDuration('5 minutes'), undefined);
});

test('config: unknown keys, wrong types and bad values name file:line:col', (t) => {
  assert.match(
    configError(t, `${HEAD}intervall: 5m\n`),
    /^agent\.yaml:3:1: unknown key "intervall" in the agent config/,
  );
  assert.match(configError(t, `${HEAD}interval: 5\n`), /^agent\.yaml:3:11: interval must be a non-empty string/);
  assert.match(configError(t, `${HEAD}interval: soon\n`), /^agent\.yaml:3:11: interval must be a duration/);
  assert.match(configError(t, `${HEAD}webhook:\n  url: ftp://x\n`), /^agent\.yaml:4:8: webhook\.url must be an http/);
  assert.match(configError(t, `${HEAD}webhook:\n  uri: https://x\n`), /^agent\.yaml:4:3: unknown key "uri" in webhook/);
  assert.match(configError(t, 'apiVersion: k3sguard.dev/v1\nkind: ImagePolicy\n'), /kind must be "AgentConfig"/);
  assert.match(configError(t, `${HEAD}root: [a\n`), /^agent\.yaml:\d+:\d+: not valid YAML/);
  assert.throws(
    () => loadAgentConfig({ webhook: 'https://x.example' }),
    (e) => isInputError(e) && /--webhook needs --webhook-secret-file/.test(e.message),
  );
  assert.throws(() => loadAgentConfig({ interval: 'often' }), /--interval must be a duration/);
});

const finding = (id: string, file: string, message = 'm'): Finding => ({
  id,
  severity: 'high',
  title: 't',
  message,
  location: [file],
});

test('state: only new and resolved become events, with stable keys and ids; a restart announces nothing again', (t) => {
  const node = { hostname: 'n1' };
  const empty: AgentState = { schema: 'k3sguard/agent-state@1', findings: [], pending: [] };
  const a = finding('K3SG-NODE-MANIFEST-UNLOCKED', 'm/a.yaml');
  const b = finding('K3SG-RUNTIME-IMAGE-REGISTRY', 'quay.io/x@sha256:1');
  const one = observe(empty, { findings: { node: [a], containerd: [b] }, at: 'T1', node });
  assert.deepEqual(
    one.events.map((e) => `${e.status} ${e.finding.id} ${e.firstSeen}`).sort(),
    [`new ${a.id} T1`, `new ${b.id} T1`].sort(),
  );
  const key = createHash('sha256').update(`${a.id}\0m/a.yaml\0`).digest('hex');
  assert.equal(stableKey(a), key);
  assert.equal(one.events.find((e) => e.key === key)?.id, eventId(key, 'new', 'T1'));
  // Saved and read back as after a restart: the same findings (other messages) are no news.
  const dir = tempDir(t);
  const store = new StateStore(dir);
  store.save({ ...one.state, pending: [] });
  const restarted = store.load();
  const two = observe(restarted, {
    findings: { node: [{ ...a, message: 'reworded' }], containerd: [b] },
    at: 'T2',
    node,
  });
  assert.deepEqual(two.events, []);
  assert.equal(two.state.findings.find((f) => f.key === key)?.firstSeen, 'T1');
  assert.equal(two.state.findings.find((f) => f.key === key)?.lastSeen, 'T2');
  // containerd could not be asked: its findings stand; the node's gone one is resolved.
  const three = observe(two.state, { findings: { node: [] }, at: 'T3', node });
  assert.deepEqual(
    three.events.map((e) => [e.status, e.finding.id, e.firstSeen, e.lastSeen, e.id]),
    [['resolved', a.id, 'T1', 'T2', eventId(key, 'resolved', 'T1')]],
  );
  assert.deepEqual(
    three.state.findings.map((f) => f.finding.id),
    [b.id],
  );
  assert.equal(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')).schema, 'k3sguard/agent-state@1');
});

test('processes: a deleted executable, one in the data dir not in its sums, one with another digest, one verified', async (t) => {
  const dir = tempDir(t);
  const dataDir = '/var/lib/rancher/k3s';
  const bin = join(dir, 'var/lib/rancher/k3s/data/abc123/bin');
  mkdirSync(bin, { recursive: true });
  const sleepBytes = readFileSync('/usr/bin/sleep');
  const digest = createHash('sha256').update(sleepBytes).digest('hex');
  const put = (name: string) => {
    copyFileSync('/usr/bin/sleep', join(bin, name));
    chmodSync(join(bin, name), 0o755);
    return join(bin, name);
  };
  // runc listed with its digest, containerd listed with another, containerd-shim-runc-v2 unlisted.
  const runc = put('runc');
  const containerd = put('containerd');
  const shim = put('containerd-shim-runc-v2');
  writeFileSync(join(bin, '.sha256sums'), `${'0'.repeat(64)}  containerd\n${digest}  runc\n`);
  const gone = join(tempDir(t), 'containerd-shim-gone'); // outside the node's root
  copyFileSync('/usr/bin/sleep', gone);
  chmodSync(gone, 0o755);
  const procs = [runc, containerd, shim, gone].map((exe) => spawn(exe, ['60'], { stdio: 'ignore' }));
  t.after(() => {
    for (const p of procs) p.kill('SIGKILL');
  });
  // Each has exec'd once its /proc/<pid>/exe names the file (bounded wait).
  for (let i = 0; i < 100; i++) {
    const r = checkProcesses({ proc: '/proc', root: dir, dataDir });
    if (r.processes.filter((p) => procs.some((c) => c.pid === p.pid)).length === 4) break;
    await sleep(20);
  }
  unlinkSync(gone);
  const r = checkProcesses({ proc: '/proc', root: dir, dataDir, digestCache: new Map() });
  const mine = r.processes.filter((p) => procs.some((c) => c.pid === p.pid)).sort((x, y) => x.pid - y.pid);
  const inData = (p: string) => `${dataDir}/data/abc123/bin/${p}`;
  assert.deepEqual(
    mine.map((p) => [p.exe, p.status]),
    [
      [inData('runc'), 'verified'],
      [inData('containerd'), 'modified'],
      [inData('containerd-shim-runc-v2'), 'unlisted'],
      [gone, 'deleted'],
    ],
  );
  const mineFindings = r.findings.filter((f) => mine.some((p) => p.exe === f.location[0]));
  assert.deepEqual(mineFindings.map((f) => `${f.id} ${f.location.join('/')}`).sort(), [
    `K3SG-PROCESS-EXE-DELETED ${gone}`,
    `K3SG-PROCESS-EXE-MODIFIED ${inData('containerd')}`,
    `K3SG-PROCESS-EXE-UNLISTED ${inData('containerd-shim-runc-v2')}`,
  ]);
  // A node mounted elsewhere without its /proc: not checked, said so.
  const none = checkProcesses({ proc: join(dir, 'proc'), root: dir, dataDir });
  assert.equal(none.available, false);
  assert.match(none.notes[0]?.message ?? '', /processes not checked/);
});

test('report of a real node tree (containerd absent): valid k3sguard/report@1, one inventory entry per digest', async (t) => {
  const k3s = await k3sBinary(t);
  if (!k3s) return;
  const dir = tempDir(t);
  const root = join(dir, 'node');
  goodNode(root);
  installK3s(root, k3s);
  writeFileSync(join(dir, 'policy.yaml'), POLICY_YAML);
  writeFileSync(join(dir, 'k3sguard.lock'), serializeLock(lockOf(root, LOCKED_FILES))); // the binary left out
  const config = loadAgentConfig({
    root,
    stateDir: join(dir, 'state'),
    lock: join(dir, 'k3sguard.lock'),
    policy: join(dir, 'policy.yaml'),
    proc: join(root, 'proc'),
  });
  const { report, nothingAudited } = await checkOnce(config, { containerd: checkContainerd });
  assert.equal(nothingAudited, false);
  assert.deepEqual(reportSchemaErrors(report), []);
  assert.equal(report.node.k3s.role, 'server');
  assert.equal(report.node.k3s.version, k3s.version);
  assert.equal(report.containerd.ok, false);
  assert.ok(!report.containerd.ok && report.containerd.code === 'CONTAINERD_NO_SOCKET');
  assert.deepEqual(
    report.findings.map((f) => f.finding.id),
    ['K3SG-NODE-BINARY-UNLOCKED'],
  );
  const digest = report.node.k3s.binary?.digest ?? '';
  const { components, ...entry } = report.inventory[digest] as InventoryEntry & { components?: ReportComponents };
  assert.deepEqual(entry, {
    kind: 'k3s-binary',
    names: ['/usr/local/bin/k3s'],
    k3sVersion: k3s.version,
    bundle: k3s.bundleHash,
  });
  // What the binary and its bundle are made of, read once and kept in the state dir by digest:
  // the next check reads the kept file (here altered, to tell it from a new reading).
  assert.deepEqual(
    components?.binaries.map((b) => b.path),
    ['', 'bin/aux/lefthook', 'bin/containerd-shim-runc-v2', 'bin/k3s', 'bin/runc'],
  );
  const kept = join(dir, 'state', 'components', `${digest.slice('sha256:'.length)}.json`);
  const file = JSON.parse(readFileSync(kept, 'utf8'));
  file.components.binaries = file.components.binaries.slice(0, 1);
  writeFileSync(kept, JSON.stringify(file));
  const again = await checkOnce(config, { containerd: checkContainerd });
  const entryAgain = again.report.inventory[digest] as { components?: ReportComponents };
  assert.equal(entryAgain.components?.binaries.length, 1);
  assert.equal(report.summary.bySeverity.high + report.summary.bySeverity.critical, 1);
  const table = reportTable(report);
  assert.match(table, /K3SG-NODE-BINARY-UNLOCKED/);
  assert.match(table, /containerd {2}not checked \(CONTAINERD_NO_SOCKET\)/);
  assert.equal(nodeIdentity(root).machineId, undefined);
  // The document refuses what the schema does not describe.
  assert.notDeepEqual(reportSchemaErrors({ ...report, extra: 1 }), []);
  assert.notDeepEqual(reportSchemaErrors(buildReport), []);
});

test('events a killed run decided are queued once when handed on again at start', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'hook.key'), 'k\n');
  // A receiver that is not there: nothing is delivered, so the outbox shows what was queued.
  const config = loadAgentConfig({
    stateDir: dir,
    listen: '',
    webhook: 'http://127.0.0.1:9/hook',
    webhookSecretFile: join(dir, 'hook.key'),
  });
  const empty: AgentState = { schema: 'k3sguard/agent-state@1', findings: [], pending: [] };
  const { events } = observe(empty, {
    findings: {
      node: [finding('K3SG-NODE-MANIFEST-UNLOCKED', 'a.yaml'), finding('K3SG-NODE-MANIFEST-UNLOCKED', 'b.yaml')],
    },
    at: 'T1',
    node: { hostname: 'n1' },
  });
  const [first, second] = events as [(typeof events)[0], (typeof events)[0]];
  const before = await startOutputs(config, { webhook: { url: 'http://127.0.0.1:9/hook', secret: 'k' } }, () => {});
  before.event(first); // the killed run queued the first, then died
  await before.close();
  const after = await startOutputs(config, { webhook: { url: 'http://127.0.0.1:9/hook', secret: 'k' } }, () => {});
  t.after(() => after.close());
  after.event(first, true);
  after.event(second, true);
  assert.equal(after.outbox?.pending('webhook'), 2);
  assert.equal(after.outbox?.holds('webhook', first.id), true);
  assert.equal(after.outbox?.holds('webhook', second.id), true);
  assert.equal(after.outbox?.holds('webhook', 'f'.repeat(64)), false);
});

test('--listen on a port already taken: one coded error, not a crash', async (t) => {
  const { createServer } = await import('node:net');
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', () => resolve()));
  t.after(() => taken.close());
  const port = (taken.address() as { port: number }).port;
  const config = loadAgentConfig({ stateDir: tempDir(t), listen: `127.0.0.1:${port}` });
  await assert.rejects(
    startOutputs(config, {}, () => {}),
    (e) => isInputError(e) && e.code === 'USAGE' && /cannot listen \(EADDRINUSE\)/.test(e.message),
  );
});

test('fingerprint: the same while nothing changes; a content change with its mtime put back still shows', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'manifests', 'a.yaml');
  mkdirSync(join(dir, 'manifests'));
  writeFileSync(file, 'a: 1\n');
  const targets = [{ dir: join(dir, 'manifests'), recursive: true }];
  const lock = join(dir, 'k3sguard.lock');
  writeFileSync(lock, '{}');
  const before = nodeFingerprint(targets, [lock]);
  assert.equal(nodeFingerprint(targets, [lock]), before);
  const { mtime, atime } = statSync(file);
  writeFileSync(file, 'a: 2\n'); // same size
  utimesSync(file, atime, mtime); // the mtime put back: the ctime still moved
  const after = nodeFingerprint(targets, [lock]);
  assert.notEqual(after, before);
  writeFileSync(join(dir, 'manifests', 'b.yaml'), '');
  assert.notEqual(nodeFingerprint(targets, [lock]), after);
  writeFileSync(lock, '{ }');
  assert.notEqual(nodeFingerprint(targets, [lock]), nodeFingerprint(targets, []));
});
