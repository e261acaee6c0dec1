// What stops a release (no key, a build output missing, a dirty tree): one line naming the
// problem and what to do, exit 2, as the CLI's input errors. Anything else is a bug and keeps
// its stack trace.
export class ReleaseError extends Error {
  override name = 'ReleaseError';
}
