// What k3sguard reads from containerd's own API (not the CRI): the images, containers and
// tasks of one namespace, and the daemon's version. K3s keeps everything Kubernetes runs in
// namespace `k8s.io`. Labels and annotations are plain records built with Object.fromEntries,
// so a hostile key such as `__proto__` is an ordinary own property.

/** Where K3s's embedded containerd listens. */
export const K3S_CONTAINERD_SOCKET = '/run/k3s/containerd/containerd.sock';
/** The namespace the CRI plugin (so K3s) keeps pods' images and containers in. */
export const K8S_NAMESPACE = 'k8s.io';
/** The container labels the CRI plugin sets from the pod. */
export const POD_NAME_LABEL = 'io.kubernetes.pod.name';
export const POD_NAMESPACE_LABEL = 'io.kubernetes.pod.namespace';

export interface ContainerdVersion {
  /** `1.7.27-k3s1`, `v2.0.5`, `1.6.20~ds1`: as the daemon says. */
  version: string;
  /** The commit it was built from (may be empty). */
  revision: string;
}

/** An OCI descriptor as containerd stores it (api/types/descriptor.proto). */
export interface ContainerdDescriptor {
  mediaType: string;
  /** `sha256:<hex>` in practice; whatever containerd holds, unchecked here. */
  digest: string;
  size: number;
  annotations: Record<string, string>;
}

/** One image record: a name pointing at a target (an index or a manifest). */
export interface ContainerdImage {
  /** The full reference, `docker.io/library/debian:bookworm`, or `sha256:<hex>` for CRI's digest-only records. */
  name: string;
  labels: Record<string, string>;
  target: ContainerdDescriptor;
  createdAt: Date;
  updatedAt: Date;
}

export interface ContainerdContainer {
  id: string;
  /** The image reference it was created from (may be empty). */
  image: string;
  labels: Record<string, string>;
  /** `io.containerd.runc.v2`, ... (empty when unset). */
  runtime: string;
  snapshotter: string;
  snapshotKey: string;
  createdAt: Date;
  updatedAt: Date;
  /** From the CRI pod labels, when both are set. */
  pod?: { name: string; namespace: string };
}

export type TaskStatus = 'unknown' | 'created' | 'running' | 'stopped' | 'paused' | 'pausing';

/** A container's task: its init process (api/types/task/task.proto Process). */
export interface ContainerdTask {
  /** The task's id, which is its container's id. */
  containerId: string;
  /** 0 when the task is not running. */
  pid: number;
  status: TaskStatus;
  exitStatus: number;
  /** When the process exited (absent while it runs). */
  exitedAt?: Date;
}
