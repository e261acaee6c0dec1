// Every way a containerd call can fail, each a coded InputError on the socket, none a hang:
// no socket, a file, a socket we may not open (a child without capabilities), an HTTP/1 server,
// a server that accepts and never answers, a gRPC server that is not containerd, a hostile
// "containerd" (grpc-js's own server, sending malformed, oversized and endless answers), and
// a real containerd frozen (SIGSTOP), killed in the middle of a call, and started again.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as httpServer } from 'node:http';
import { type Server as NetServer, createServer as netServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Metadata,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServerWritableStream,
  type sendUnaryData,
  status,
} from '@grpc/grpc-js';
import { ProtoWriter } from '../../src/io/protobuf-write.ts';
import { InputError, type InputErrorCode } from '../../src/model/errors.ts';
import { ContainerdClient } from '../../src/readers/containerd/client.ts';
import { hasTool } from '../fixtures/tools.ts';
import { containerdSkip, startContainerd } from '../images/containerd.ts';

const dir = mkdtempSync(join(tmpdir(), 'k3sg-ctrd-err-'));
const closers: Array<() => unknown> = [];
after(async () => {
  for (const close of closers.reverse()) await close();
  rmSync(dir, { recursive: true, force: true });
});

async function failsWith(
  call: Promise<unknown>,
  code: InputErrorCode,
  socket: string,
  pattern?: RegExp,
): Promise<InputError> {
  const e = await call.then(
    () => assert.fail('the call succeeded'),
    (err: unknown) => err,
  );
  assert.ok(e instanceof InputError, String(e));
  assert.equal(e.code, code, e.message);
  assert.equal(e.file, socket);
  if (pattern) assert.match(e.message, pattern);
  return e;
}

function client(socket: string, opts: ConstructorParameters<typeof ContainerdClient>[1] = {}): ContainerdClient {
  const c = new ContainerdClient(socket, { deadlineMs: 5000, ...opts });
  closers.push(() => c.close());
  return c;
}

async function listen(server: NetServer, path: string): Promise<void> {
  await new Promise<void>((ok) => server.listen(path, ok));
  closers.push(() => new Promise((ok) => server.close(ok)));
}

test('no socket at the path, or a regular file there: CONTAINERD_NO_SOCKET', async () => {
  const missing = join(dir, 'missing.sock');
  await failsWith(client(missing).version(), 'CONTAINERD_NO_SOCKET', missing, /no socket at this path/);
  const file = join(dir, 'file');
  writeFileSync(file, 'not a socket');
  await failsWith(client(file).images('k8s.io'), 'CONTAINERD_NO_SOCKET', file, /not a socket/);
});

test('a socket this process may not open: CONTAINERD_DENIED', async (t) => {
  if (process.getuid?.() !== 0 || !hasTool('setpriv')) return t.skip('needs root and setpriv to drop capabilities');
  const path = join(dir, 'denied.sock');
  await listen(netServer(), path);
  chmodSync(path, 0o000);
  // Root without CAP_DAC_OVERRIDE is held to the mode bits, as any other user would be.
  const out = execFileSync(
    'setpriv',
    [
      '--bounding-set',
      '-all',
      '--inh-caps',
      '-all',
      process.execPath,
      new URL('./containerd-call.ts', import.meta.url).pathname,
      path,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(out.trim(), 'CONTAINERD_DENIED');
});

test('an HTTP/1 server, a server that hangs up: CONTAINERD_PROTOCOL', async () => {
  const http = join(dir, 'http.sock');
  const h = httpServer((_req, res) => res.end('hello'));
  await new Promise<void>((ok) => h.listen(http, ok));
  closers.push(() => new Promise((ok) => h.close(ok)));
  await failsWith(client(http).version(), 'CONTAINERD_PROTOCOL', http, /not a gRPC server/);
  const hangup = join(dir, 'hangup.sock');
  await listen(
    netServer((s) => s.destroy()),
    hangup,
  );
  await failsWith(client(hangup).tasks('k8s.io'), 'CONTAINERD_PROTOCOL', hangup, /not a gRPC server/);
});

test('a server that accepts and never answers: CONTAINERD_TIMEOUT at the deadline', async () => {
  const silent = join(dir, 'silent.sock');
  const held: Array<{ destroy(): void }> = [];
  await listen(
    netServer((s) => held.push(s)),
    silent,
  );
  closers.push(() => {
    for (const s of held) s.destroy();
  });
  await failsWith(
    client(silent, { deadlineMs: 300 }).containers('k8s.io'),
    'CONTAINERD_TIMEOUT',
    silent,
    /within 300 ms/,
  );
});

/** grpc-js's server on a unix socket, with raw-bytes handlers for the methods given. */
async function grpcServer(
  path: string,
  unary: Record<string, (call: ServerUnaryCall<Buffer, Buffer>, done: sendUnaryData<Buffer>) => void>,
  streams: Record<string, (call: ServerWritableStream<Buffer, Buffer>) => void> = {},
): Promise<Server> {
  const server = new Server({ 'grpc.max_send_message_length': 64 * 1024 * 1024 });
  const raw = (b: Buffer) => b;
  const definition = (p: string, responseStream: boolean) => ({
    path: p,
    requestStream: false,
    responseStream,
    requestSerialize: raw,
    requestDeserialize: raw,
    responseSerialize: raw,
    responseDeserialize: raw,
  });
  const service: Record<string, ReturnType<typeof definition>> = {};
  const handlers: Record<string, unknown> = {};
  for (const [p, h] of Object.entries(unary)) {
    service[p] = definition(p, false);
    handlers[p] = h;
  }
  for (const [p, h] of Object.entries(streams)) {
    service[p] = definition(p, true);
    handlers[p] = h;
  }
  server.addService(service, handlers as never);
  await new Promise<void>((ok, fail) =>
    server.bindAsync(`unix:${path}`, ServerCredentials.createInsecure(), (e) => (e ? fail(e) : ok())),
  );
  closers.push(() => server.forceShutdown());
  return server;
}

const IMAGES_LIST = '/containerd.services.images.v1.Images/List';
const CONTAINERS_STREAM = '/containerd.services.containers.v1.Containers/ListStream';
const TASKS_LIST = '/containerd.services.tasks.v1.Tasks/List';
const VERSION = '/containerd.services.version.v1.Version/Version';

test('a gRPC server that is not containerd: CONTAINERD_PROTOCOL (no such method)', async () => {
  const path = join(dir, 'other-grpc.sock');
  await grpcServer(path, { '/some.other.Service/Call': (_c, done) => done(null, Buffer.alloc(0)) });
  await failsWith(client(path).version(), 'CONTAINERD_PROTOCOL', path, /does not offer this method/);
});

test('a hostile containerd: malformed, oversized, endless and erroring answers are coded errors', async () => {
  const path = join(dir, 'hostile.sock');
  const seen: string[] = [];
  let streamCancelled: Promise<void> = Promise.resolve();
  const container = new ProtoWriter().bytes(1, new ProtoWriter().string(1, 'c').finish()).finish();
  await grpcServer(
    path,
    {
      [IMAGES_LIST]: (call, done) => {
        seen.push(String(call.metadata.get('containerd-namespace')[0]));
        done(null, images(2 * 1024 * 1024)); // valid, and larger than the small client takes
      },
      [TASKS_LIST]: (_call, done) => done(null, Buffer.from([0x0a, 0x05, 0x0a, 0x01])), // length past the end
      [VERSION]: (_call, done) =>
        done({ code: status.INTERNAL, details: 'boom\nsecond line', metadata: new Metadata() }),
    },
    {
      [CONTAINERS_STREAM]: (call) => {
        streamCancelled = new Promise((ok) => call.once('cancelled', () => ok()));
        // Endless: containers as fast as the client takes them, until it cancels.
        const pump = () => {
          while (!call.cancelled && call.write(container));
          if (!call.cancelled) call.once('drain', pump);
        };
        pump();
      },
    },
  );
  const small = client(path, { maxMessageBytes: 1024 * 1024, maxItems: 1000 });
  await failsWith(small.images('k8s.io'), 'CONTAINERD_PROTOCOL', path, /over the 1048576-byte message limit/);
  assert.equal((await client(path).images('k8s.io')).length, images.count, 'within the limits, the same answer reads');
  assert.deepEqual(seen, ['k8s.io', 'k8s.io'], 'the namespace goes as containerd-namespace metadata');
  const malformed = await failsWith(small.tasks('k8s.io'), 'CONTAINERD_PROTOCOL', path, /past the end of the message/);
  assert.equal((malformed.cause as InputError).code, 'PROTOBUF_CORRUPT');
  await failsWith(small.containers('k8s.io'), 'CONTAINERD_PROTOCOL', path, /more than 1000 containers/);
  await streamCancelled; // the endless stream was cancelled, not left running
  await failsWith(small.version(), 'CONTAINERD_PROTOCOL', path, /answered INTERNAL \("boom\\nsecond line"\)/);
  await failsWith(small.images('no spaces allowed'), 'USAGE', path, /not a valid namespace name/);
});

/** ListImagesResponse of about `size` bytes of valid images. */
function images(size: number): Buffer {
  const one = new ProtoWriter()
    .bytes(1, new ProtoWriter().string(1, `docker.io/x/y:${'t'.repeat(100)}`).finish())
    .finish();
  images.count = Math.ceil(size / one.length);
  return Buffer.concat(new Array(images.count).fill(one));
}
images.count = 0;

test('a real containerd frozen, killed mid-call, then started again', async (t) => {
  const why = containerdSkip();
  if (why) return t.skip(why);
  const first = await startContainerd();
  if ('skip' in first) return t.skip(first.skip);
  closers.push(() => first.remove());
  const c = client(first.socket, { deadlineMs: 1000 });
  assert.match((await c.version()).version, /\d/);

  // Frozen: the kernel still accepts connections, nothing answers.
  await first.freeze();
  try {
    await failsWith(c.images('k8s.io'), 'CONTAINERD_TIMEOUT', first.socket, /within 1000 ms/);
  } finally {
    await first.thaw();
  }
  assert.deepEqual(await c.images('k8s.io'), []);

  // Killed while a call waits on it: the call fails at once, not at its deadline.
  const slow = client(first.socket, { deadlineMs: 60_000 });
  await first.freeze();
  const pending = slow.containers('k8s.io');
  await sleep(200); // let the call reach the frozen daemon (the outcome does not depend on it)
  process.kill(first.pid, 'SIGKILL');
  await failsWith(pending, 'CONTAINERD_UNAVAILABLE', first.socket);
  await first.stop();
  // Dead, its socket file left behind: nothing answers there.
  await failsWith(
    c.version(),
    'CONTAINERD_UNAVAILABLE',
    first.socket,
    /nothing answers on the socket \(ECONNREFUSED\)/,
  );

  // Started again on the same root and socket: the same client recovers (grpc-js reconnects).
  const second = await startContainerd(first.dir);
  if ('skip' in second) throw new Error(second.skip);
  closers.push(() => second.stop());
  let version: string | undefined;
  for (let i = 0; i < 50 && version === undefined; i++) {
    version = await c.version().then(
      (v) => v.version,
      async (e: unknown) => {
        assert.ok(e instanceof InputError && e.code === 'CONTAINERD_UNAVAILABLE', String(e));
        await sleep(100);
        return undefined;
      },
    );
  }
  assert.match(version ?? '', /\d/);

  // Stopped cleanly (SIGTERM): containerd removes its socket.
  await second.stop();
  await failsWith(c.version(), 'CONTAINERD_NO_SOCKET', first.socket);
});
