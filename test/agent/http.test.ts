// The metrics and health endpoints over real HTTP on loopback: /metrics in the Prometheus text
// format with every name and type the issue lists and the values recordCheck set; /healthz;
// /readyz turning ready when the caller says; 404 and 405 for everything else.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { startAgentHttp } from '../../src/agent/http.ts';
import { parseListen } from '../../src/agent/listen.ts';
import { AgentMetrics, countFindings } from '../../src/agent/metrics.ts';
import type { Finding } from '../../src/model/inventory.ts';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(port: number, method: string, path: string, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    req.on('timeout', () => req.destroy(new Error('no answer')));
    req.on('error', reject);
    req.end(body);
  });
}

/** The exposition format, parsed: TYPE per family and every sample line. */
function parseMetrics(text: string): { types: Map<string, string>; samples: Map<string, number> } {
  const types = new Map<string, string>();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1] as string, type[2] as string);
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\S+?(?:\{.*\})?) (\S+)$/.exec(line);
    assert.ok(m, `a sample line: ${line}`);
    samples.set(m[1] as string, Number(m[2]));
  }
  return { types, samples };
}

const finding = (id: string, severity: Finding['severity'], subject: string): Finding => ({
  id,
  severity,
  title: id,
  message: id,
  location: [subject],
});

test('/metrics, /healthz and /readyz over HTTP', async (t) => {
  const metrics = new AgentMetrics();
  let ready = false;
  const http = await startAgentHttp('127.0.0.1:0', {
    metrics,
    health: () => (ready ? { ready: true } : { ready: false, reason: 'no complete check yet' }),
  });
  t.after(() => http.close());
  assert.match(http.address, /^127\.0\.0\.1:\d+$/);

  assert.equal((await call(http.port, 'GET', '/healthz')).status, 200);
  const notReady = await call(http.port, 'GET', '/readyz');
  assert.equal(notReady.status, 503);
  assert.match(notReady.body, /no complete check yet/);

  const before = await call(http.port, 'GET', '/metrics');
  assert.equal(before.status, 200);
  assert.match(String(before.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  const { types } = parseMetrics(before.body);
  for (const [name, type] of [
    ['k3sguard_findings', 'gauge'],
    ['k3sguard_check_duration_seconds', 'histogram'],
    ['k3sguard_last_check_timestamp_seconds', 'gauge'],
    ['k3sguard_binary_info', 'gauge'],
    ['k3sguard_images', 'gauge'],
    ['k3sguard_alerts_pending', 'gauge'],
    ['k3sguard_outbox_dropped_total', 'counter'],
    ['k3sguard_outbox_dead_letters_total', 'counter'],
    ['process_cpu_seconds_total', 'counter'],
    ['process_resident_memory_bytes', 'gauge'],
    ['nodejs_eventloop_lag_seconds', 'gauge'],
  ]) {
    assert.equal(types.get(name as string), type, `${name} is a ${type}`);
  }

  const findings = [
    finding('K3SG-RUNTIME-IMAGE-REGISTRY', 'high', 'evil.example/x@sha256:aa'),
    finding('K3SG-RUNTIME-IMAGE-REGISTRY', 'high', 'evil.example/y@sha256:bb'),
    finding('K3SG-PROCESS-DELETED', 'critical', '/var/lib/rancher/k3s/data/abc/bin/runc'),
  ];
  metrics.recordCheck({
    finishedAt: new Date('2026-12-03T17:00:00Z'),
    durationSeconds: 0.7,
    findings: countFindings(findings),
    binaries: [{ path: '/usr/local/bin/k3s', sha256: 'ab'.repeat(32), k3sVersion: 'v1.31.4+k3s1' }],
    images: { trusted: 18, untrusted: 2 },
  });
  metrics.setPending(3);
  ready = true;
  assert.equal((await call(http.port, 'GET', '/readyz')).status, 200);

  const after = parseMetrics((await call(http.port, 'GET', '/metrics')).body).samples;
  assert.equal(after.get('k3sguard_findings{rule="K3SG-RUNTIME-IMAGE-REGISTRY",severity="high"}'), 2);
  assert.equal(after.get('k3sguard_findings{rule="K3SG-PROCESS-DELETED",severity="critical"}'), 1);
  assert.equal(after.get('k3sguard_check_duration_seconds_count'), 1);
  assert.equal(after.get('k3sguard_check_duration_seconds_bucket{le="1"}'), 1);
  assert.equal(after.get('k3sguard_check_duration_seconds_bucket{le="0.5"}'), 0);
  assert.equal(after.get('k3sguard_last_check_timestamp_seconds'), Date.parse('2026-12-03T17:00:00Z') / 1000);
  assert.equal(
    after.get(`k3sguard_binary_info{path="/usr/local/bin/k3s",sha256="${'ab'.repeat(32)}",k3s_version="v1.31.4+k3s1"}`),
    1,
  );
  assert.equal(after.get('k3sguard_images{verdict="trusted"}'), 18);
  assert.equal(after.get('k3sguard_images{verdict="untrusted"}'), 2);
  assert.equal(after.get('k3sguard_images{verdict="unknown"}'), 0);
  assert.equal(after.get('k3sguard_alerts_pending'), 3);

  // The next check replaces the series: a resolved finding's series is gone, not stuck at its old value.
  metrics.recordCheck({
    finishedAt: new Date('2026-12-03T17:05:00Z'),
    durationSeconds: 0.2,
    findings: countFindings(findings.slice(2)),
    binaries: [{ path: '/usr/local/bin/k3s', sha256: 'cd'.repeat(32), k3sVersion: 'v1.31.5+k3s1' }],
    images: { trusted: 20 },
  });
  const next = parseMetrics((await call(http.port, 'GET', '/metrics')).body).samples;
  assert.equal(next.has('k3sguard_findings{rule="K3SG-RUNTIME-IMAGE-REGISTRY",severity="high"}'), false);
  assert.equal(next.get('k3sguard_check_duration_seconds_count'), 2);
  assert.equal([...next.keys()].filter((k) => k.startsWith('k3sguard_binary_info')).length, 1);
  assert.equal(next.get('k3sguard_images{verdict="untrusted"}'), 0);

  // Everything else.
  assert.equal((await call(http.port, 'GET', '/')).status, 404);
  assert.equal((await call(http.port, 'GET', '/metrics/x')).status, 404);
  assert.equal((await call(http.port, 'GET', '/healthz?verbose=1')).status, 200);
  const post = await call(http.port, 'POST', '/metrics', 'x'.repeat(100_000));
  assert.equal(post.status, 405);
  assert.equal(post.headers.allow, 'GET, HEAD');
  assert.equal((await call(http.port, 'DELETE', '/readyz')).status, 405);
  const head = await call(http.port, 'HEAD', '/metrics');
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
});

test('--listen is HOST:PORT, loopback by default; a taken port is an error', async (t) => {
  assert.deepEqual(parseListen('127.0.0.1:9464'), { host: '127.0.0.1', port: 9464 });
  assert.deepEqual(parseListen('[::1]:9464'), { host: '::1', port: 9464 });
  assert.deepEqual(parseListen('0.0.0.0:0'), { host: '0.0.0.0', port: 0 });
  for (const bad of ['9464', ':9464', '127.0.0.1', '127.0.0.1:65536', '[nope]:1', '::1:9464', 'a b:1']) {
    assert.throws(() => parseListen(bad), { code: 'USAGE' }, bad);
  }
  const metrics = new AgentMetrics({ processMetrics: false });
  const first = await startAgentHttp('127.0.0.1:0', { metrics, health: () => ({ ready: true }) });
  t.after(() => first.close());
  await assert.rejects(startAgentHttp(`127.0.0.1:${first.port}`, { metrics, health: () => ({ ready: true }) }), {
    code: 'EADDRINUSE',
  });
});
