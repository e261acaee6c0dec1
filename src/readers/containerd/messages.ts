// containerd's API messages that k3sguard reads, decoded from protobuf wire bytes by field
// number. The numbers are those of containerd's api/ protos (github.com/containerd/containerd,
// unchanged from v1.6 to v2.x for every field used here):
//   api/services/images/v1/images.proto          Image, ListImagesResponse
//   api/types/descriptor.proto                   Descriptor
//   api/services/containers/v1/containers.proto  Container, Container.Runtime, ListContainerMessage
//   api/services/tasks/v1/tasks.proto            ListTasksResponse
//   api/types/task/task.proto                    Process, Status
//   api/services/version/v1/version.proto        VersionResponse
// Fields not listed (a container's OCI spec and extensions, a runtime's options) are skipped
// unread. Requests are encoded here too: the list requests carry filters only.
import { type ProtoField, ProtoMessage } from '../../io/protobuf.ts';
import { ProtoWriter } from '../../io/protobuf-write.ts';
import {
  type ContainerdContainer,
  type ContainerdDescriptor,
  type ContainerdImage,
  type ContainerdTask,
  type ContainerdVersion,
  POD_NAME_LABEL,
  POD_NAMESPACE_LABEL,
  type TaskStatus,
} from './types.ts';

/** ListImagesRequest / ListContainersRequest: `repeated string filters = 1`. */
export function encodeListRequest(filters: readonly string[] = []): Buffer {
  const w = new ProtoWriter();
  for (const f of filters) w.string(1, f);
  return w.finish();
}

/** ListTasksRequest: `string filter = 1`. */
export function encodeListTasksRequest(filter = ''): Buffer {
  const w = new ProtoWriter();
  if (filter !== '') w.string(1, filter);
  return w.finish();
}

/** Go's zero time.Time, 0001-01-01T00:00:00Z: what containerd sends for an unset time. */
const ZERO_TIME_MS = Date.parse('0001-01-01T00:00:00Z');

/** google.protobuf.Empty: no fields. */
export const EMPTY_REQUEST = Buffer.alloc(0);

/** VersionResponse: version = 1, revision = 2. */
export function decodeVersion(bytes: Uint8Array, where: string): ContainerdVersion {
  const m = new ProtoMessage(bytes, where);
  const out: ContainerdVersion = { version: '', revision: '' };
  for (const f of m.fields()) {
    if (f.number === 1) out.version = m.string(f, 'version');
    else if (f.number === 2) out.revision = m.string(f, 'revision');
  }
  return out;
}

/** ListImagesResponse: `repeated Image images = 1`. */
export function decodeListImages(bytes: Uint8Array, where: string, maxItems: number): ContainerdImage[] {
  const m = new ProtoMessage(bytes, where);
  const out: ContainerdImage[] = [];
  for (const f of m.fields()) {
    if (f.number !== 1) continue;
    if (out.length >= maxItems) throw m.error(`more than ${maxItems} images`);
    out.push(decodeImage(m.nested(f, 'image')));
  }
  return out;
}

/** Image: name = 1, labels = 2 (map), target = 3, created_at = 7, updated_at = 8. */
function decodeImage(m: ProtoMessage): ContainerdImage {
  let name = '';
  const labels = new Map<string, string>();
  let target: ContainerdDescriptor = { mediaType: '', digest: '', size: 0, annotations: {} };
  let createdAt = new Date(ZERO_TIME_MS);
  let updatedAt = new Date(ZERO_TIME_MS);
  for (const f of m.fields()) {
    if (f.number === 1) name = m.string(f, 'image name');
    else if (f.number === 2) mapEntry(m, f, labels, 'image label');
    else if (f.number === 3) target = decodeDescriptor(m.nested(f, 'image target'));
    else if (f.number === 7) createdAt = m.timestamp(f, 'image created_at');
    else if (f.number === 8) updatedAt = m.timestamp(f, 'image updated_at');
  }
  return { name, labels: Object.fromEntries(labels), target, createdAt, updatedAt };
}

/** Descriptor: media_type = 1, digest = 2, size = 3 (int64), annotations = 5 (map). */
function decodeDescriptor(m: ProtoMessage): ContainerdDescriptor {
  const d: ContainerdDescriptor = { mediaType: '', digest: '', size: 0, annotations: {} };
  const annotations = new Map<string, string>();
  for (const f of m.fields()) {
    if (f.number === 1) d.mediaType = m.string(f, 'descriptor media_type');
    else if (f.number === 2) d.digest = m.string(f, 'descriptor digest');
    else if (f.number === 3) d.size = m.int64(f, 'descriptor size');
    else if (f.number === 5) mapEntry(m, f, annotations, 'descriptor annotation');
  }
  if (d.size < 0) throw m.error(`descriptor ${d.digest} has a negative size`);
  d.annotations = Object.fromEntries(annotations);
  return d;
}

/** ListContainerMessage (one per stream message): `Container container = 1`. */
export function decodeContainerMessage(bytes: Uint8Array, where: string): ContainerdContainer | undefined {
  const m = new ProtoMessage(bytes, where);
  let out: ContainerdContainer | undefined;
  for (const f of m.fields()) if (f.number === 1) out = decodeContainer(m.nested(f, 'container'));
  return out;
}

/**
 * Container: id = 1, labels = 2 (map), image = 3, runtime = 4 (Runtime: name = 1),
 * snapshotter = 6, snapshot_key = 7, created_at = 8, updated_at = 9. Not read: spec = 5 (the
 * OCI runtime spec as an Any), extensions = 10, sandbox = 11 (2.x).
 */
function decodeContainer(m: ProtoMessage): ContainerdContainer {
  const labels = new Map<string, string>();
  const c: ContainerdContainer = {
    id: '',
    image: '',
    labels: {},
    runtime: '',
    snapshotter: '',
    snapshotKey: '',
    createdAt: new Date(ZERO_TIME_MS),
    updatedAt: new Date(ZERO_TIME_MS),
  };
  for (const f of m.fields()) {
    if (f.number === 1) c.id = m.string(f, 'container id');
    else if (f.number === 2) mapEntry(m, f, labels, 'container label');
    else if (f.number === 3) c.image = m.string(f, 'container image');
    else if (f.number === 4) c.runtime = runtimeName(m.nested(f, 'container runtime'));
    else if (f.number === 6) c.snapshotter = m.string(f, 'container snapshotter');
    else if (f.number === 7) c.snapshotKey = m.string(f, 'container snapshot_key');
    else if (f.number === 8) c.createdAt = m.timestamp(f, 'container created_at');
    else if (f.number === 9) c.updatedAt = m.timestamp(f, 'container updated_at');
  }
  c.labels = Object.fromEntries(labels);
  const name = labels.get(POD_NAME_LABEL);
  const namespace = labels.get(POD_NAMESPACE_LABEL);
  if (name !== undefined && namespace !== undefined) c.pod = { name, namespace };
  return c;
}

function runtimeName(m: ProtoMessage): string {
  let name = '';
  for (const f of m.fields()) if (f.number === 1) name = m.string(f, 'runtime name');
  return name;
}

/** ListTasksResponse: `repeated containerd.v1.types.Process tasks = 1`. */
export function decodeListTasks(bytes: Uint8Array, where: string, maxItems: number): ContainerdTask[] {
  const m = new ProtoMessage(bytes, where);
  const out: ContainerdTask[] = [];
  for (const f of m.fields()) {
    if (f.number !== 1) continue;
    if (out.length >= maxItems) throw m.error(`more than ${maxItems} tasks`);
    out.push(decodeProcess(m.nested(f, 'task')));
  }
  return out;
}

/** task.proto Status: UNKNOWN = 0 ... PAUSING = 5; a value added later reads as unknown. */
const STATUSES: readonly TaskStatus[] = ['unknown', 'created', 'running', 'stopped', 'paused', 'pausing'];

/**
 * Process: container_id = 1, id = 2, pid = 3, status = 4, exit_status = 9, exited_at = 10.
 * Not read: stdin/stdout/stderr = 5-7 (FIFO paths), terminal = 8. Tasks.List fills `id` with
 * the task's id (its container's id, as `ctr tasks ls` prints it) and leaves container_id
 * empty (services/tasks getProcessState, 1.6 to 2.x); either names the container.
 */
function decodeProcess(m: ProtoMessage): ContainerdTask {
  const t: ContainerdTask = { containerId: '', pid: 0, status: 'unknown', exitStatus: 0 };
  let containerId = '';
  for (const f of m.fields()) {
    if (f.number === 1) containerId = m.string(f, 'task container_id');
    else if (f.number === 2) t.containerId = m.string(f, 'task id');
    else if (f.number === 3) t.pid = m.uint32(f, 'task pid');
    else if (f.number === 4) t.status = STATUSES[m.uint32(f, 'task status')] ?? 'unknown';
    else if (f.number === 9) t.exitStatus = m.uint32(f, 'task exit_status');
    else if (f.number === 10) {
      const at = m.timestamp(f, 'task exited_at');
      // gogoproto's non-nullable time sends Go's zero time (0001-01-01) for "not exited".
      if (at.getTime() !== ZERO_TIME_MS) t.exitedAt = at;
    }
  }
  if (t.containerId === '') t.containerId = containerId;
  return t;
}

function mapEntry(m: ProtoMessage, f: ProtoField, into: Map<string, string>, name: string): void {
  const [k, v] = m.stringMapEntry(f, name);
  into.set(k, v); // a repeated key: the last one wins, as protobuf's maps do
}
