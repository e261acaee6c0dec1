// A read-only client for containerd's own gRPC API on its unix socket: images, containers and
// tasks of a namespace, and the daemon's version. grpc-js carries the calls (HTTP/2, deadlines,
// status codes, the receive-size bound); the messages are encoded and decoded by our own codec
// (./messages.ts), from raw bytes, so a malformed answer is our coded error and not a library's
// exception. Every call has a deadline: a socket that accepts and never answers costs at most
// that long. Only List and Version methods are called: nothing here changes containerd.
import { resolve } from 'node:path';
import {
  type CallOptions,
  Client,
  type ClientReadableStream,
  credentials,
  Metadata,
  type ServiceError,
} from '@grpc/grpc-js';
import { InputError } from '../../model/errors.ts';
import { LIMITS } from '../../model/limits.ts';
import { callError, namespaceError } from './errors.ts';
import {
  decodeContainerMessage,
  decodeListImages,
  decodeListTasks,
  decodeVersion,
  EMPTY_REQUEST,
  encodeListRequest,
  encodeListTasksRequest,
} from './messages.ts';
import type { ContainerdContainer, ContainerdImage, ContainerdTask, ContainerdVersion } from './types.ts';

export interface ContainerdClientOptions {
  /** Milliseconds each call may take, connecting included; default 10 s. */
  deadlineMs?: number;
  /** The largest message accepted from the socket (default LIMITS.containerdMessageBytes). */
  maxMessageBytes?: number;
  /** The most images, containers or tasks one list may return (default LIMITS.containerdItems). */
  maxItems?: number;
}

export const DEFAULT_DEADLINE_MS = 10_000;

const METHODS = {
  version: '/containerd.services.version.v1.Version/Version',
  images: '/containerd.services.images.v1.Images/List',
  // The streaming list: one container per message, so a node with many containers (each
  // carrying its OCI spec) never needs one huge message. containerd has it since 1.2.
  containers: '/containerd.services.containers.v1.Containers/ListStream',
  tasks: '/containerd.services.tasks.v1.Tasks/List',
} as const;

/** Bytes go out and come in as they are: the codec is ours. */
const raw = (b: Buffer): Buffer => b;

export class ContainerdClient {
  /** The socket path, as given: the `file` of every error. */
  readonly socket: string;
  private readonly deadlineMs: number;
  private readonly maxMessageBytes: number;
  private readonly maxItems: number;
  private readonly client: Client;

  constructor(socket: string, opts: ContainerdClientOptions = {}) {
    this.socket = socket;
    this.deadlineMs = opts.deadlineMs ?? DEFAULT_DEADLINE_MS;
    this.maxMessageBytes = opts.maxMessageBytes ?? LIMITS.containerdMessageBytes;
    this.maxItems = opts.maxItems ?? LIMITS.containerdItems;
    this.client = new Client(`unix:${resolve(socket)}`, credentials.createInsecure(), {
      'grpc.max_receive_message_length': this.maxMessageBytes,
      'grpc.max_send_message_length': 64 * 1024,
      // After containerd restarts, the next call must not wait out a long reconnect backoff.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
      'grpc.enable_retries': 0,
    });
  }

  /** The daemon's version (no namespace needed). */
  async version(): Promise<ContainerdVersion> {
    const bytes = await this.unary(METHODS.version, undefined, EMPTY_REQUEST);
    return this.decode(METHODS.version, () => decodeVersion(bytes, this.where(METHODS.version)));
  }

  /** Every image record of `namespace` (one per name: a re-tagged image appears twice). */
  async images(namespace: string): Promise<ContainerdImage[]> {
    const bytes = await this.unary(METHODS.images, namespace, encodeListRequest());
    return this.decode(METHODS.images, () => decodeListImages(bytes, this.where(METHODS.images), this.maxItems));
  }

  /** Every container of `namespace`, running or not. */
  async containers(namespace: string): Promise<ContainerdContainer[]> {
    const out: ContainerdContainer[] = [];
    const where = this.where(METHODS.containers);
    await this.stream(METHODS.containers, namespace, encodeListRequest(), (bytes) => {
      const c = this.decode(METHODS.containers, () => decodeContainerMessage(bytes, where));
      if (!c) return;
      if (out.length >= this.maxItems) {
        throw new InputError('CONTAINERD_PROTOCOL', this.socket, `${where}: more than ${this.maxItems} containers`);
      }
      out.push(c);
    });
    return out;
  }

  /** The task (init process) of every container of `namespace` that has one. */
  async tasks(namespace: string): Promise<ContainerdTask[]> {
    const bytes = await this.unary(METHODS.tasks, namespace, encodeListTasksRequest());
    return this.decode(METHODS.tasks, () => decodeListTasks(bytes, this.where(METHODS.tasks), this.maxItems));
  }

  /** Closes the connection; calls made afterwards fail. */
  close(): void {
    this.client.close();
  }

  /** A message our codec refuses is containerd breaking its protocol: said so, on the socket. */
  private decode<T>(method: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (!(e instanceof InputError) || e.code !== 'PROTOBUF_CORRUPT') throw e;
      throw new InputError('CONTAINERD_PROTOCOL', this.socket, `${this.where(method)}: ${e.message}`, { cause: e });
    }
  }

  private where(method: string): string {
    return `containerd ${method.slice(method.lastIndexOf('.') + 1)}`;
  }

  private callSetup(namespace: string | undefined): { metadata: Metadata; options: CallOptions } {
    const metadata = new Metadata();
    if (namespace !== undefined) {
      const bad = namespaceError(namespace);
      if (bad) throw new InputError('USAGE', this.socket, bad);
      metadata.set('containerd-namespace', namespace);
    }
    return { metadata, options: { deadline: Date.now() + this.deadlineMs } };
  }

  private async unary(method: string, namespace: string | undefined, request: Buffer): Promise<Buffer> {
    const { metadata, options } = this.callSetup(namespace);
    try {
      return await new Promise<Buffer>((ok, fail) => {
        this.client.makeUnaryRequest(method, raw, raw, request, metadata, options, (e, reply) =>
          e || !reply ? fail(e) : ok(reply),
        );
      });
    } catch (e) {
      throw await this.failure(method, e);
    }
  }

  private async stream(
    method: string,
    namespace: string,
    request: Buffer,
    onMessage: (bytes: Buffer) => void,
  ): Promise<void> {
    const { metadata, options } = this.callSetup(namespace);
    const call: ClientReadableStream<Buffer> = this.client.makeServerStreamRequest(
      method,
      raw,
      raw,
      request,
      metadata,
      options,
    );
    try {
      for await (const bytes of call) onMessage(bytes as Buffer);
    } catch (e) {
      call.cancel(); // our decoder refused a message: stop the stream, then say why
      throw await this.failure(method, e);
    }
  }

  private async failure(method: string, e: unknown): Promise<unknown> {
    if (e instanceof InputError) return e;
    if (!isServiceError(e)) return e;
    return callError(this.socket, this.where(method), e, {
      deadlineMs: this.deadlineMs,
      maxMessageBytes: this.maxMessageBytes,
    });
  }
}

function isServiceError(e: unknown): e is ServiceError {
  return e instanceof Error && typeof (e as Partial<ServiceError>).code === 'number';
}
