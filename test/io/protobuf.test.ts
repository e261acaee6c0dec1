// The protobuf wire codec (src/io/protobuf*.ts) and containerd's messages (readers/containerd/
// messages.ts) against an independent encoder: protoc (Debian's protobuf-compiler) encodes
// text-format messages of a .proto written here from the field numbers of containerd's api/
// protos, and decodes what our writer encodes. Then malformed input: truncations, lengths past
// the end, wrong wire types, groups, bad UTF-8, nesting past the bound, out-of-range values.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { MAX_PROTO_DEPTH, ProtoMessage } from '../../src/io/protobuf.ts';
import { ProtoWriter, varintBytes } from '../../src/io/protobuf-write.ts';
import { InputError } from '../../src/model/errors.ts';
import {
  decodeContainerMessage,
  decodeListImages,
  decodeListTasks,
  decodeVersion,
  encodeListRequest,
  encodeListTasksRequest,
} from '../../src/readers/containerd/messages.ts';
import { hasTool } from '../fixtures/tools.ts';

const PROTOC_SKIP = hasTool('protoc') ? undefined : 'protoc not installed (apt-get install -y protobuf-compiler)';
const INCLUDE = '/usr/include'; // google/protobuf/*.proto, shipped with protobuf-compiler

// Field numbers as in containerd's api/ protos; names and packages are ours.
const PROTO = `syntax = "proto3";
package t;
import "google/protobuf/timestamp.proto";
import "google/protobuf/any.proto";
message Descriptor { string media_type = 1; string digest = 2; int64 size = 3; map<string, string> annotations = 5; }
message Image {
  string name = 1; map<string, string> labels = 2; Descriptor target = 3;
  google.protobuf.Timestamp created_at = 7; google.protobuf.Timestamp updated_at = 8;
  string from_a_newer_containerd = 99;
}
message ListImagesRequest { repeated string filters = 1; }
message ListImagesResponse { repeated Image images = 1; }
message Container {
  string id = 1; map<string, string> labels = 2; string image = 3;
  message Runtime { string name = 1; google.protobuf.Any options = 2; }
  Runtime runtime = 4; google.protobuf.Any spec = 5; string snapshotter = 6; string snapshot_key = 7;
  google.protobuf.Timestamp created_at = 8; google.protobuf.Timestamp updated_at = 9;
  map<string, google.protobuf.Any> extensions = 10; string sandbox = 11;
}
message ListContainerMessage { Container container = 1; }
enum Status { UNKNOWN = 0; CREATED = 1; RUNNING = 2; STOPPED = 3; PAUSED = 4; PAUSING = 5; }
message Process {
  string container_id = 1; string id = 2; uint32 pid = 3; Status status = 4;
  string stdin = 5; string stdout = 6; string stderr = 7; bool terminal = 8;
  uint32 exit_status = 9; google.protobuf.Timestamp exited_at = 10;
}
message ListTasksRequest { string filter = 1; }
message ListTasksResponse { repeated Process tasks = 1; }
message VersionResponse { string version = 1; string revision = 2; }
`;

const dir = mkdtempSync(join(tmpdir(), 'k3sg-proto-'));
after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 't.proto'), PROTO);

/** protoc --encode: text format in, wire bytes out. */
function encode(message: string, text: string): Buffer {
  return execFileSync('protoc', [`-I${dir}`, `-I${INCLUDE}`, `--encode=t.${message}`, 't.proto'], {
    cwd: dir,
    input: text,
  });
}

/** protoc --decode: wire bytes in, text format out. */
function decode(message: string, bytes: Uint8Array): string {
  return execFileSync('protoc', [`-I${dir}`, `-I${INCLUDE}`, `--decode=t.${message}`, 't.proto'], {
    cwd: dir,
    input: bytes,
  }).toString('utf8');
}

const GO_ZERO_TIME = -62_135_596_800;

function corrupt(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InputError, String(e));
    assert.equal(e.code, 'PROTOBUF_CORRUPT');
    assert.equal(e.file, 'test');
    assert.match(e.message, pattern);
    return true;
  });
}

test('images: protoc-encoded ListImagesResponse decodes field for field', { skip: PROTOC_SKIP }, () => {
  const bytes = encode(
    'ListImagesResponse',
    `images {
       name: "docker.io/library/debian:bookworm"
       labels { key: "io.cri-containerd.image" value: "managed" }
       labels { key: "__proto__" value: "polluted?" }
       labels { key: "dup" value: "first" }
       labels { key: "dup" value: "last" }
       target {
         media_type: "application/vnd.oci.image.index.v1+json"
         digest: "sha256:${'a'.repeat(64)}"
         size: 9007199254740991
         annotations { key: "org.opencontainers.image.ref.name" value: "bookworm \\u00e9\\u6f22" }
       }
       created_at { seconds: 1700000000 nanos: 123456789 }
       updated_at { seconds: 1700000001 }
       from_a_newer_containerd: "unknown to k3sguard"
     }
     images { name: "sha256:${'b'.repeat(64)}" target { digest: "sha256:${'b'.repeat(64)}" } }`,
  );
  const images = decodeListImages(bytes, 'test', 10);
  assert.equal(images.length, 2);
  const [a, b] = images;
  assert.equal(a?.name, 'docker.io/library/debian:bookworm');
  assert.deepEqual(Object.keys(a?.labels ?? {}).sort(), ['__proto__', 'dup', 'io.cri-containerd.image']);
  const own = Object.getOwnPropertyDescriptor(a?.labels, '__proto__');
  assert.equal(own?.value, 'polluted?', 'an own property, not the prototype');
  assert.equal(Object.getPrototypeOf(a?.labels), Object.prototype);
  assert.equal(a?.labels.dup, 'last', 'a repeated map key: the last wins');
  assert.deepEqual(a?.target, {
    mediaType: 'application/vnd.oci.image.index.v1+json',
    digest: `sha256:${'a'.repeat(64)}`,
    size: Number.MAX_SAFE_INTEGER,
    annotations: { 'org.opencontainers.image.ref.name': 'bookworm é漢' },
  });
  assert.equal(a?.createdAt.toISOString(), '2023-11-14T22:13:20.123Z');
  assert.equal(a?.updatedAt.toISOString(), '2023-11-14T22:13:21.000Z');
  assert.equal(b?.name, `sha256:${'b'.repeat(64)}`);
  assert.deepEqual(b?.target, { mediaType: '', digest: `sha256:${'b'.repeat(64)}`, size: 0, annotations: {} });
  assert.deepEqual(b?.labels, {});
  corrupt(() => decodeListImages(bytes, 'test', 1), /more than 1 images/);
});

test('containers: spec, runtime options and extensions (Any) are skipped; pod labels read', {
  skip: PROTOC_SKIP,
}, () => {
  const bytes = encode(
    'ListContainerMessage',
    `container {
       id: "c1"
       labels { key: "io.kubernetes.pod.name" value: "web-0" }
       labels { key: "io.kubernetes.pod.namespace" value: "shop" }
       image: "docker.io/library/nginx:1.27"
       runtime { name: "io.containerd.runc.v2" options { type_url: "x/runc.Options" value: "\\001\\002\\003" } }
       spec { type_url: "types.containerd.io/opencontainers/runtime-spec/1/Spec" value: "{\\"ociVersion\\":\\"1.0.2\\"}" }
       snapshotter: "overlayfs"
       snapshot_key: "c1-key"
       created_at { seconds: 1 nanos: 999999999 }
       updated_at { seconds: ${GO_ZERO_TIME} }
       extensions { key: "ext" value { type_url: "y" value: "z" } }
       sandbox: "sb"
     }`,
  );
  assert.deepEqual(decodeContainerMessage(bytes, 'test'), {
    id: 'c1',
    image: 'docker.io/library/nginx:1.27',
    labels: { 'io.kubernetes.pod.name': 'web-0', 'io.kubernetes.pod.namespace': 'shop' },
    runtime: 'io.containerd.runc.v2',
    snapshotter: 'overlayfs',
    snapshotKey: 'c1-key',
    createdAt: new Date('1970-01-01T00:00:01.999Z'),
    updatedAt: new Date('0001-01-01T00:00:00Z'),
    pod: { name: 'web-0', namespace: 'shop' },
  });
  const noPod = decodeContainerMessage(
    encode('ListContainerMessage', 'container { id: "x" labels { key: "io.kubernetes.pod.name" value: "p" } }'),
    'test',
  );
  assert.equal(noPod?.pod, undefined, 'both pod labels or no pod');
  assert.equal(decodeContainerMessage(Buffer.alloc(0), 'test'), undefined);
});

test('tasks: every status, pids up to 2^32-1, the zero exit time as absent', { skip: PROTOC_SKIP }, () => {
  const statuses = ['UNKNOWN', 'CREATED', 'RUNNING', 'STOPPED', 'PAUSED', 'PAUSING'];
  const text = [
    ...statuses.map(
      (s, i) => `tasks { id: "t${i}" pid: ${i * 1000} status: ${s} exited_at { seconds: ${GO_ZERO_TIME} } }`,
    ),
    `tasks { id: "max" pid: 4294967295 status: STOPPED exit_status: 137 exited_at { seconds: 1700000000 nanos: 5000000 } stdin: "/run/fifo" terminal: true }`,
    `tasks { container_id: "only-container-id" status: 9 }`,
  ].join('\n');
  const tasks = decodeListTasks(encode('ListTasksResponse', text), 'test', 100);
  assert.deepEqual(
    tasks.slice(0, 6).map((t) => [t.containerId, t.pid, t.status, t.exitedAt]),
    statuses.map((s, i) => [`t${i}`, i * 1000, s.toLowerCase(), undefined]),
  );
  assert.deepEqual(tasks[6], {
    containerId: 'max',
    pid: 4294967295,
    status: 'stopped',
    exitStatus: 137,
    exitedAt: new Date('2023-11-14T22:13:20.005Z'),
  });
  assert.deepEqual(tasks[7], { containerId: 'only-container-id', pid: 0, status: 'unknown', exitStatus: 0 });
});

test('version', { skip: PROTOC_SKIP }, () => {
  const bytes = encode('VersionResponse', 'version: "v2.0.5-k3s1" revision: "abc"');
  assert.deepEqual(decodeVersion(bytes, 'test'), { version: 'v2.0.5-k3s1', revision: 'abc' });
  assert.deepEqual(decodeVersion(Buffer.alloc(0), 'test'), { version: '', revision: '' });
});

test('our requests, decoded by protoc', { skip: PROTOC_SKIP }, () => {
  assert.equal(decode('ListImagesRequest', encodeListRequest()), '');
  assert.equal(
    decode('ListImagesRequest', encodeListRequest(['name~="debian"', 'labels."é"==x'])),
    'filters: "name~=\\"debian\\""\nfilters: "labels.\\"\\303\\251\\"==x"\n',
  );
  assert.equal(decode('ListTasksRequest', encodeListTasksRequest('id==c1')), 'filter: "id==c1"\n');
  const w = new ProtoWriter().varint(3, 300).varint(9, -1);
  assert.equal(
    decode('Process', w.finish()),
    'pid: 300\nexit_status: 4294967295\n',
    'a uint32 from a 64-bit varint keeps its low 32 bits, as protoc does',
  );
});

test('varints: one to ten bytes, as protoc writes them', { skip: PROTOC_SKIP }, () => {
  assert.deepEqual(varintBytes(0n), Uint8Array.from([0]));
  for (const v of [1n, 127n, 128n, 300n, 2n ** 32n - 1n, 2n ** 53n - 1n]) {
    const ours = Buffer.from(varintBytes(v));
    const theirs = encode('Descriptor', `size: ${v}`);
    assert.deepEqual(Buffer.concat([Buffer.from([0x18]), ours]), theirs, `varint ${v}`);
  }
  // A negative int64 is sign-extended to ten bytes: refused as a size.
  const negative = encode('ListImagesResponse', 'images { target { digest: "d" size: -1 } }');
  corrupt(() => decodeListImages(negative, 'test', 10), /negative size/);
  const huge = encode('ListImagesResponse', 'images { target { size: 9007199254740992 } }');
  corrupt(() => decodeListImages(huge, 'test', 10), /beyond what k3sguard reads exactly/);
});

test('timestamps outside 0001..9999 and negative nanos are refused', { skip: PROTOC_SKIP }, () => {
  for (const ts of [
    'seconds: 253402300800',
    `seconds: ${GO_ZERO_TIME - 1}`,
    'seconds: 1 nanos: -1',
    'nanos: 1000000000',
  ]) {
    const bytes = encode('ListImagesResponse', `images { created_at { ${ts} } }`);
    corrupt(() => decodeListImages(bytes, 'test', 10), /created_at is out of range/);
  }
});

test('malformed wire bytes: every one a PROTOBUF_CORRUPT error naming where', () => {
  const images = (bytes: number[]) => () => decodeListImages(Buffer.from(bytes), 'test', 10);
  corrupt(images([0x0a]), /varint runs past the end/);
  corrupt(images([0x0a, 0x80]), /varint runs past the end/);
  corrupt(images([0x08, 0xff, 0xff]), /varint runs past the end/);
  corrupt(images([0x08, ...new Array(10).fill(0xff), 0x01]), /longer than ten bytes/);
  corrupt(images([0x0a, 0x05, 0x0a, 0x01]), /says 5 bytes, past the end/);
  corrupt(images([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), /past the end/);
  corrupt(images([0x0a, 0x02, 0x0a, 0x05]), /says 5 bytes, past the end/); // inside the nested image
  corrupt(images([0x09, 1, 2, 3]), /field 1 runs past the end/); // fixed64 with 3 bytes
  corrupt(images([0x0d, 1, 2]), /field 1 runs past the end/); // fixed32 with 2 bytes
  corrupt(images([0x08, 0x01]), /image \(field 1\) is varint, not length-delimited/);
  corrupt(images([0x0a, 0x02, 0x08, 0x01]), /image name \(field 1\) is varint/);
  corrupt(images([0x0b, 0x0c]), /is a group/);
  corrupt(images([0x0e]), /unknown wire type 6/);
  corrupt(images([0x07]), /invalid field number 0/);
  corrupt(images([0x0a, 0x03, 0x0a, 0x01, 0xff]), /image name is not valid UTF-8/);
  corrupt(
    () => decodeListTasks(Buffer.from([0x0a, 0x06, 0x18, 0x80, 0x80, 0x80, 0x80, 0x10]), 'test', 10),
    /task pid is 4294967296, not a uint32/,
  );
});

test('nesting: past MAX_PROTO_DEPTH refused; deep unknown fields skipped without recursion', () => {
  // A message whose field holds a message whose field holds ..., n levels: the headers are
  // written outermost first, each with the length of all it encloses.
  const nest = (n: number, field = 1): Buffer => {
    const key = varintBytes(BigInt((field << 3) | 2));
    const lengths = [0];
    for (let i = 0; i < n; i++) {
      const inner = lengths[i] as number;
      lengths.push(key.length + varintBytes(BigInt(inner)).length + inner);
    }
    const parts: Uint8Array[] = [];
    for (let i = n - 1; i >= 0; i--) parts.push(key, varintBytes(BigInt(lengths[i] as number)));
    return Buffer.concat(parts);
  };
  const walk = (m: ProtoMessage): number => {
    let deepest = m.depth;
    for (const f of m.fields()) deepest = Math.max(deepest, walk(m.nested(f, 'inner')));
    return deepest;
  };
  assert.equal(walk(new ProtoMessage(nest(MAX_PROTO_DEPTH), 'test')), MAX_PROTO_DEPTH);
  corrupt(() => walk(new ProtoMessage(nest(MAX_PROTO_DEPTH + 1), 'test')), /nested more than 32 deep/);
  // 100,000 levels inside a field the schema does not know: skipped as bytes, never recursed.
  const deep = Buffer.concat([
    nest(100_000, 99),
    new ProtoWriter().bytes(1, new ProtoWriter().string(1, 'ok').finish()).finish(),
  ]);
  assert.deepEqual(
    decodeListImages(deep, 'test', 10).map((i) => i.name),
    ['ok'],
  );
});
