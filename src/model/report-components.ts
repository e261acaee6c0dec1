// What the node report says the K3s binary is made of (`components` of its `k3s-binary`
// inventory entry, docs/agent.md): each Go binary in it and in its embedded bundle, with what
// scan's matcher reads of a Go binary and nothing more: the Go version, the platform, the K3s
// identity, the main module and every dependency with its `=>` replacement. Module lists are
// tuples, not objects: a K3s release has hundreds of modules per binary, and the report is
// sent by every node. The fleet server rebuilds the component tree from it
// (inventory/report-components.ts) and matches it as `scan` would.

/** `[path, version]`, or `[path, version, replacementPath, replacementVersion]` for a `=>` line. */
export type ReportModule = [string, string] | [string, string, string, string];

export interface ReportGoBinary {
  /** `''` for the K3s binary itself, else the member's path in its bundle (`bin/containerd`). */
  path: string;
  /** The runtime version as recorded (`go1.23.4`, `go1.25.1 X:nodwarf5`). */
  go: string;
  goos?: string;
  goarch?: string;
  /** The build info was removed: only the Go version is known (its stdlib is still matched). */
  stripped?: true;
  /** The K3s identity (module path and version) when the binary is a K3s. */
  k3s?: { module: string; version: string };
  main?: ReportModule;
  modules?: ReportModule[];
}

export interface ReportComponents {
  binaries: ReportGoBinary[];
  /** More modules than LIMITS.reportComponents: the rest were left out. */
  truncated?: true;
}
