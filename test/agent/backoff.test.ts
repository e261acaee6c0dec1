// The retry schedule: doubling from the first wait, capped, each wait between half and all of
// its step (the jitter), and Retry-After read in both of its forms.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay, retryAfterMs } from '../../src/agent/backoff.ts';

test('backoff doubles, is capped, and jitters within half a step', () => {
  const policy = { initialMs: 1000, maxMs: 300_000 };
  const low = () => 0;
  const high = () => 1;
  assert.deepEqual(
    [1, 2, 3, 4].map((n) => backoffDelay(n, policy, high)),
    [1000, 2000, 4000, 8000],
  );
  assert.deepEqual(
    [1, 2, 3, 4].map((n) => backoffDelay(n, policy, low)),
    [500, 1000, 2000, 4000],
  );
  assert.equal(backoffDelay(20, policy, high), 300_000, 'capped');
  assert.equal(backoffDelay(10_000, policy, low), 150_000, 'no overflow after very many failures');
  for (let i = 0; i < 1000; i++) {
    const d = backoffDelay(3, policy);
    assert.ok(d >= 2000 && d <= 4000, String(d));
  }
});

test('Retry-After: seconds or an HTTP date', () => {
  const now = Date.parse('2026-12-03T17:00:00Z');
  assert.equal(retryAfterMs('120', now), 120_000);
  assert.equal(retryAfterMs('Thu, 03 Dec 2026 17:00:30 GMT', now), 30_000);
  assert.equal(retryAfterMs('Thu, 03 Dec 2026 16:00:00 GMT', now), 0, 'a date in the past: now');
  assert.equal(retryAfterMs(null, now), undefined);
  assert.equal(retryAfterMs('soon', now), undefined);
});
