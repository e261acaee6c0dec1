// A failed containerd call as one coded InputError. grpc-js reports every connection failure
// as UNAVAILABLE with free text; which one it was (no socket, no permission, nobody listening,
// something that is not a gRPC server) is then learned the direct way: the socket path is
// looked at and connected to once, and the errno, or the absence of an HTTP/2 handshake, says. Text from the server (a status
// message) is shown quoted, never trusted.
import { lstat } from 'node:fs/promises';
import { connect as http2Connect } from 'node:http2';
import { connect } from 'node:net';
import { type ServiceError, status } from '@grpc/grpc-js';
import { errnoOf } from '../../io/fs-error.ts';
import { InputError } from '../../model/errors.ts';

/** containerd's namespace names (namespaces/validate.go's rule: label-like, at most 76 bytes). */
const NAMESPACE = /^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$/;

/** Why `name` is not a namespace containerd would accept; undefined when it is one. */
export function namespaceError(name: string): string | undefined {
  if (name.length <= 76 && NAMESPACE.test(name)) return undefined;
  return `containerd namespace ${JSON.stringify(name)} is not a valid namespace name`;
}

/**
 * How long the probe may take (at most the call's deadline): a path that accepts and then
 * stalls must not hold a failed call much longer than the call itself could take.
 */
const PROBE_MS = 2000;

export type SocketProbe =
  | { kind: 'missing' }
  | { kind: 'not-socket' }
  | { kind: 'denied' }
  | { kind: 'refused'; errno: string }
  /** Something accepts connections but sends no HTTP/2 SETTINGS: not a gRPC server. */
  | { kind: 'not-http2'; why: string }
  /** An HTTP/2 server answers: the failure was the call's, not the socket's. */
  | { kind: 'http2' };

/**
 * One look at the socket path, then one HTTP/2 connection, closed as soon as the server's
 * SETTINGS frame (the first thing every HTTP/2 server sends) arrives or fails to.
 */
export async function probeSocket(path: string, timeoutMs = PROBE_MS): Promise<SocketProbe> {
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch (e) {
    const errno = errnoOf(e);
    if (errno === 'ENOENT' || errno === 'ENOTDIR') return { kind: 'missing' };
    if (errno === 'EACCES') return { kind: 'denied' };
    return { kind: 'refused', errno };
  }
  if (!isSocket) return { kind: 'not-socket' };
  return new Promise((done) => {
    let connected = false;
    const socket = connect(path);
    const session = http2Connect('http://localhost', { createConnection: () => socket });
    const timer = setTimeout(
      () => finish({ kind: 'not-http2', why: `no HTTP/2 settings within ${timeoutMs} ms` }),
      timeoutMs,
    );
    function finish(r: SocketProbe): void {
      clearTimeout(timer);
      session.destroy();
      socket.destroy();
      done(r);
    }
    socket.once('connect', () => {
      connected = true;
    });
    socket.once('error', (e) => {
      const errno = errnoOf(e);
      if (connected) finish({ kind: 'not-http2', why: errno });
      else if (errno === 'ENOENT') finish({ kind: 'missing' });
      else if (errno === 'EACCES' || errno === 'EPERM') finish({ kind: 'denied' });
      else finish({ kind: 'refused', errno });
    });
    session.once('remoteSettings', () => finish({ kind: 'http2' }));
    session.once('error', (e) => finish({ kind: 'not-http2', why: errnoOf(e) }));
    session.once('close', () => finish({ kind: 'not-http2', why: 'the connection was closed' }));
  });
}

export interface CallContext {
  deadlineMs: number;
  maxMessageBytes: number;
}

/** The coded error for a call `where` (e.g. `containerd Images/List`) on `socket` that failed with `e`. */
export async function callError(socket: string, where: string, e: ServiceError, ctx: CallContext): Promise<InputError> {
  const detail = JSON.stringify(e.details ?? '');
  const err = (code: ConstructorParameters<typeof InputError>[0], text: string) =>
    new InputError(code, socket, `${where}: ${text}`, { cause: e });
  switch (e.code) {
    case status.DEADLINE_EXCEEDED:
      return err('CONTAINERD_TIMEOUT', `no answer within ${ctx.deadlineMs} ms`);
    case status.RESOURCE_EXHAUSTED:
      return err('CONTAINERD_PROTOCOL', `an answer over the ${ctx.maxMessageBytes}-byte message limit (${detail})`);
    case status.UNIMPLEMENTED:
      return err('CONTAINERD_PROTOCOL', `the server does not offer this method: not containerd's API? (${detail})`);
    case status.UNAVAILABLE:
      return unavailable(socket, where, e, Math.min(PROBE_MS, ctx.deadlineMs));
    default:
      return err('CONTAINERD_PROTOCOL', `containerd answered ${status[e.code] ?? e.code} (${detail})`);
  }
}

async function unavailable(socket: string, where: string, e: ServiceError, probeMs: number): Promise<InputError> {
  const probe = await probeSocket(socket, probeMs);
  const err = (code: ConstructorParameters<typeof InputError>[0], text: string) =>
    new InputError(code, socket, `${where}: ${text}`, { cause: e });
  switch (probe.kind) {
    case 'missing':
      return err('CONTAINERD_NO_SOCKET', 'no socket at this path (is containerd, or K3s, running?)');
    case 'not-socket':
      return err('CONTAINERD_NO_SOCKET', 'this path is not a socket');
    case 'denied':
      return err('CONTAINERD_DENIED', "permission denied (containerd's socket is for root)");
    case 'refused':
      return err('CONTAINERD_UNAVAILABLE', `nothing answers on the socket (${probe.errno}): containerd is not running`);
    case 'not-http2':
      return err('CONTAINERD_PROTOCOL', `what listens on this socket is not a gRPC server (${probe.why})`);
    case 'http2':
      // A gRPC server is there now: the call's connection broke (containerd stopping or restarting).
      return err('CONTAINERD_UNAVAILABLE', `the connection failed (${JSON.stringify(e.details ?? '')})`);
  }
}
