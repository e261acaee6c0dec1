// The webhook signature of the agent and of the fleet server's notifications: HMAC-SHA256 with the
// shared secret over `timestamp + "." + body`, sent as `X-K3sguard-Signature: sha256=<hex>` beside
// `X-K3sguard-Timestamp` (unix seconds). Signing the timestamp with the body lets the receiver
// refuse a captured request replayed later: docs/agent.md ("Webhook") says how to verify and
// which window to enforce. Here, below both services, so one receiver checks both alike.
import { createHmac } from 'node:crypto';

/** How far from its own clock a receiver should accept `X-K3sguard-Timestamp`, either way. */
export const WEBHOOK_REPLAY_WINDOW_SECONDS = 300;

export const SIGNATURE_HEADER = 'X-K3sguard-Signature';
export const TIMESTAMP_HEADER = 'X-K3sguard-Timestamp';
export const EVENT_ID_HEADER = 'X-K3sguard-Event-Id';

/** `sha256=<hex>` for the body sent at `timestamp` (unix seconds). */
export function webhookSignature(secret: string | Uint8Array, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex')}`;
}
