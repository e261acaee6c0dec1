// Coded errors, in the style of sigstore-js: every failure the user can cause carries a
// stable code and the file it concerns, so the CLI can print one line and exit 2.
import { quoteControls } from './quote.ts';

export type InputErrorCode =
  | 'USAGE'
  | 'NOT_FOUND'
  | 'UNREADABLE'
  | 'NOT_ELF'
  | 'ELF_TRUNCATED'
  | 'ELF_CORRUPT'
  | 'BUILDINFO_CORRUPT'
  | 'ZSTD_CORRUPT'
  | 'ZSTD_LIMIT'
  | 'TAR_CORRUPT'
  | 'TAR_LIMIT'
  | 'SYMLINK_LOOP'
  | 'UNSAFE_PATH'
  | 'OUTPUT'
  // Sigstore verification and signing inputs (src/verify/sigstore/).
  | 'BAD_JSON'
  | 'BAD_KEY'
  | 'BAD_TRUSTED_ROOT'
  // Checksum files and k3sguard.lock (src/verify/checksums.ts, lock*.ts).
  | 'SUMS_INVALID' // a sums file that is malformed or contradicts itself
  | 'LOCK_INVALID' // k3sguard.lock that is not JSON or not the documented schema
  | 'LOCK_CONFLICT' // a second source gives another digest for an artifact in the lock
  | 'LOCK_BUSY' // another `lock add` holds k3sguard.lock.lck past the wait (or one was killed mid-write)
  // The vulnerability database and its inputs (src/vulndb/*.ts).
  | 'NO_DB' // no database at the path: the message says how to get one
  | 'DB_INVALID' // a file at the database path that is not a k3sguard vulnerability database
  | 'NO_RECORDS' // an import or update that found no valid OSV record at all
  | 'ZIP_CORRUPT' // truncated or inconsistent zip structure, bad CRC, bad deflate data
  | 'ZIP_LIMIT' // an entry or the whole archive past the uncompressed-size limits (a zip bomb)
  | 'ZIP_UNSUPPORTED' // encryption, multi-disk archives, compression other than stored/deflate
  | 'DOWNLOAD_FAILED' // HTTP error status, dropped connection, timeout, oversized download
  // Scan inputs (src/scan/*.ts).
  | 'VEX_INVALID' // an OpenVEX file that is not JSON or not a valid OpenVEX 0.2.0 document
  // Image archives and OCI layouts (src/readers/images/*.ts).
  | 'IMAGE_CORRUPT' // corrupt outer compression, unparsable index/manifest/config, bad layout
  | 'IMAGE_LIMIT' // a blob or layer past the size limits (a zip bomb, a huge manifest)
  // Policy files (src/policy/*.ts).
  | 'POLICY_INVALID' // a policy that is not YAML or not the documented schema: file:line:col says where
  // The agent (src/agent/*.ts).
  | 'CONFIG_INVALID' // an agent config (flags or agent.yaml) that is not the documented schema: file:line:col says where
  // Local gRPC APIs (src/io/protobuf.ts, src/readers/containerd/*.ts); the file is the socket.
  | 'PROTOBUF_CORRUPT' // a message that does not decode: truncated, lengths past the end, wrong wire types
  | 'CONTAINERD_NO_SOCKET' // nothing at the socket path, or something that is not a socket
  | 'CONTAINERD_DENIED' // the socket is there but this user may not connect to it
  | 'CONTAINERD_UNAVAILABLE' // nothing listens (containerd stopped), or the connection broke
  | 'CONTAINERD_TIMEOUT' // no answer before the call's deadline
  | 'CONTAINERD_PROTOCOL' // an answer that is not containerd's API: not gRPC, an error status, too large, malformed
  // OCI distribution API (src/readers/registry/*.ts); the file is the registry host or reference.
  | 'REGISTRY_CONFIG' // a registries.yaml that is not YAML or not K3s's shape, or a CA file that cannot be read
  | 'REGISTRY_UNREACHABLE' // no connection: DNS, refused, reset, a TLS handshake that fails
  | 'REGISTRY_TIMEOUT' // no complete answer before the request's deadline
  | 'REGISTRY_AUTH' // 401/403 after the credentials (or none) were tried, or a token service that refuses
  | 'REGISTRY_NOT_FOUND' // the repository, tag, manifest or blob is not there (404)
  | 'REGISTRY_PROTOCOL' // an answer that is not the distribution API: bad status, media type, JSON, redirects
  | 'REGISTRY_LIMIT' // a manifest or blob past its size limit (declared or as streamed)
  | 'REGISTRY_OFFLINE' // offline mode, and the cache has no (fresh) answer
  | 'DIGEST_MISMATCH' // content whose sha256 is not the digest asked for or announced
  // The fleet server (src/server/*.ts).
  | 'SERVER_DB'; // its database cannot be opened, reached or migrated (the driver's reason; a URL's password never shown)

/** Input the tool cannot read, or a usage mistake: exit code 2. */
export class InputError extends Error {
  readonly code: InputErrorCode;
  /** The file (or target) the problem concerns, as the user named it. */
  readonly file: string | undefined;

  constructor(code: InputErrorCode, file: string | undefined, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InputError';
    this.code = code;
    this.file = file;
  }

  /**
   * One line for the terminal: `FILE: problem`. A line break in the message (a library's
   * multi-line text) reads as a space; any other control character, and any in the file
   * name (a newline in a name is part of it), is shown quoted.
   */
  oneLine(): string {
    const text = quoteControls(this.message.replace(/\s*\n\s*/g, ' '));
    return this.file ? `${quoteControls(this.file)}: ${text}` : text;
  }
}

export function isInputError(e: unknown): e is InputError {
  return e instanceof InputError;
}
