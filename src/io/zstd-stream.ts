// Decompress one zstd frame from a file with node:zlib (the work runs on the libuv thread
// pool, so the caller's processing of one chunk overlaps the decompression of the next).
// The compressed bytes are read into two buffers used in turn, each refilled only once zlib
// has consumed it: a fresh buffer per read (as fs.createReadStream makes) is garbage that
// V8 frees only at its next collection, and with the decompressed chunks that garbage pile
// is what sets peak memory.
import type { FileHandle } from 'node:fs/promises';
import { constants, createZstdDecompress, type ZstdDecompress } from 'node:zlib';
import { InputError } from '../model/errors.ts';

/** Output chunk of the decompressor: 1 MiB (the 16 KiB default is several times slower). */
const OUT_CHUNK = 1024 * 1024;
const IN_CHUNK = 1024 * 1024;

export interface FrameReadOptions {
  /** The file as the user named it, for errors. */
  file: string;
  /** Refuse frames whose window is over 2^maxWindowLog bytes (bounds the decoder's memory). */
  maxWindowLog: number;
  /** What the frame is, for errors (default `bundle`): `evidence`, ... */
  what?: string;
  /** Sees every compressed byte, in order, as it is read (to hash the frame in the same pass). */
  onInput?: (bytes: Buffer) => void;
}

/** node:zlib's zstd errors, as coded InputErrors. */
function zstdError(e: unknown, opts: FrameReadOptions): unknown {
  if (e instanceof InputError || !(e instanceof Error)) return e;
  const code = (e as NodeJS.ErrnoException).code ?? '';
  if (code === 'ZSTD_error_frameParameter_windowTooLarge') {
    return new InputError(
      'ZSTD_LIMIT',
      opts.file,
      `${opts.what ?? 'bundle'}: zstd window larger than 2^${opts.maxWindowLog} bytes`,
      {
        cause: e,
      },
    );
  }
  if (code.startsWith('ZSTD_error_') || code.startsWith('Z_')) {
    const why = code === 'Z_BUF_ERROR' ? 'truncated frame' : e.message;
    return new InputError('ZSTD_CORRUPT', opts.file, `${opts.what ?? 'bundle'}: corrupt zstd data: ${why}`, {
      cause: e,
    });
  }
  return new InputError('UNREADABLE', opts.file, `${opts.what ?? 'bundle'}: ${e.message}`, { cause: e });
}

/** Feed bytes [offset, offset + length) of `fh` to `zstd`, double-buffered, then end it. */
async function feed(
  fh: FileHandle,
  offset: number,
  length: number,
  zstd: ZstdDecompress,
  opts: FrameReadOptions,
): Promise<void> {
  const file = opts.file;
  const buffers = [Buffer.allocUnsafe(IN_CHUNK), Buffer.allocUnsafe(IN_CHUNK)];
  const consumed: Array<Promise<void> | undefined> = [undefined, undefined];
  const end = offset + length;
  for (let at = offset, i = 0; at < end; i ^= 1) {
    await consumed[i];
    const buf = buffers[i] as Buffer;
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, end - at), at);
    if (bytesRead === 0)
      throw new InputError('UNREADABLE', file, `${opts.what ?? 'bundle'}: the file ended inside the zstd frame`);
    at += bytesRead;
    opts.onInput?.(buf.subarray(0, bytesRead));
    consumed[i] = new Promise((resolve, reject) => {
      zstd.write(buf.subarray(0, bytesRead), (e) => (e ? reject(e) : resolve()));
    });
  }
  await Promise.all(consumed);
  zstd.end();
}

/**
 * Decompress the zstd frame at [offset, offset + length) of `fh`, handing each output chunk
 * to `onChunk` (awaited: decompression waits meanwhile). Errors become InputErrors
 * (ZSTD_CORRUPT, ZSTD_LIMIT for an oversized window, UNREADABLE); an error thrown by
 * `onChunk` stops decompression and is rethrown as it is.
 */
export async function decompressFrame(
  fh: FileHandle,
  offset: number,
  length: number,
  opts: FrameReadOptions,
  onChunk: (chunk: Buffer) => void | Promise<void>,
): Promise<void> {
  const zstd = createZstdDecompress({
    chunkSize: OUT_CHUNK,
    params: { [constants.ZSTD_d_windowLogMax]: opts.maxWindowLog },
  });
  const feeding = feed(fh, offset, length, zstd, opts);
  // A feeding failure surfaces through the stream (destroyed with it) or the final await.
  feeding.catch((e: unknown) => zstd.destroy(e instanceof Error ? e : new Error(String(e))));
  let ownError: { error: unknown } | undefined;
  try {
    for await (const chunk of zstd as AsyncIterable<Buffer>) {
      try {
        const wait = onChunk(chunk);
        if (wait) await wait;
      } catch (error) {
        ownError = { error };
        throw error;
      }
    }
  } catch (e) {
    zstd.destroy(); // the feeder's pending writes then fail; nothing waits for them
    throw ownError ? ownError.error : zstdError(e, opts);
  }
  await feeding.catch((e: unknown) => {
    throw zstdError(e, opts);
  });
}
