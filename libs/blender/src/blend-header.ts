// Cheap structural check of an uploaded .blend, in pure TypeScript, before anything is stored or
// handed to Blender. It proves the file is a complete .blend (header, every block inside the file,
// a DNA1 block, ENDB at the end); whether Blender can actually render it is for the inspection.
import { open } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, gunzipSync } from 'node:zlib';
import { BlendFileHeader, BlendStructureWalker } from './blend-blocks';
import { BlendFileError } from './blend-file-error';
import { isZstdMagic, ZstdFrameWalker } from './zstd-frames';

export type BlendCompression = 'none' | 'gzip' | 'zstd';

export interface BlendCheckResult {
  compression: BlendCompression;
  /**
   * True when every .blend block was walked. False for zstd-compressed files: Node 20 has no
   * zstd decoder, so only the zstd frame structure (truncation, seek table) was checked and
   * Blender's own inspection must catch the rest.
   */
  structurallyChecked: boolean;
  /** size of the file as stored (compressed size for gzip/zstd) */
  storedBytes: number;
  /** size of the .blend data; for zstd the frames' declared content size, null if unknown */
  uncompressedBytes: number | null;
  /** null for zstd (not decompressed) */
  header: BlendFileHeader | null;
  /** blocks including ENDB; null for zstd */
  blockCount: number | null;
  /** bytes after ENDB, ignored by Blender */
  trailingBytes: number;
}

export interface BlendCheckOptions {
  /**
   * Refuse gzip files that inflate beyond this (a gzip bomb guard). Default 1 GiB for the
   * in-memory check, 64 GiB for the streaming file check (which never holds the data).
   */
  maxUncompressedBytes?: number;
}

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const DEFAULT_MAX_IN_MEMORY = 1024 ** 3;
const DEFAULT_MAX_STREAMED = 64 * 1024 ** 3;

export function detectCompression(head: Buffer): BlendCompression {
  if (head.length >= 2 && head.subarray(0, 2).equals(GZIP_MAGIC)) return 'gzip';
  if (isZstdMagic(head)) return 'zstd';
  return 'none';
}

/** Check a whole .blend held in memory. Throws BlendFileError with a message for the uploader. */
export function validateBlendHeader(buf: Buffer, opts: BlendCheckOptions = {}): BlendCheckResult {
  if (buf.length === 0) throw new BlendFileError('EMPTY', 'empty file');
  const compression = detectCompression(buf);
  if (compression === 'zstd') {
    const z = new ZstdFrameWalker();
    z.push(buf);
    return zstdResult(z, buf.length);
  }
  let data = buf;
  if (compression === 'gzip') {
    const max = opts.maxUncompressedBytes ?? DEFAULT_MAX_IN_MEMORY;
    try {
      data = gunzipSync(buf, { maxOutputLength: max });
    } catch (e) {
      throw gzipError(e, max);
    }
  }
  const walker = new BlendStructureWalker();
  walker.push(data);
  return blendResult(walker, compression, buf.length);
}

/**
 * The same check streamed from disk with constant memory, for large uploads. Prefer this once the
 * upload is spooled to a file: a 2 GB scene is never held in memory.
 */
export async function validateBlendFile(
  path: string,
  opts: BlendCheckOptions = {},
): Promise<BlendCheckResult> {
  let head: Buffer;
  let size: number;
  try {
    const fh = await open(path, 'r');
    try {
      size = (await fh.stat()).size;
      const { buffer, bytesRead } = await fh.read(Buffer.alloc(4), 0, 4, 0);
      head = buffer.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw new BlendFileError('UNREADABLE', `cannot read ${path}: ${(e as Error).message}`);
  }
  if (size === 0) throw new BlendFileError('EMPTY', 'empty file');
  const compression = detectCompression(head);

  if (compression === 'zstd') {
    const z = new ZstdFrameWalker();
    await streamInto(createReadStream(path), (c) => z.push(c));
    return zstdResult(z, size);
  }
  const walker = new BlendStructureWalker();
  if (compression === 'gzip') {
    const max = opts.maxUncompressedBytes ?? DEFAULT_MAX_STREAMED;
    let inflated = 0;
    try {
      await streamInto(
        createReadStream(path),
        (c) => {
          inflated += c.length;
          if (inflated > max) throw tooLarge(max);
          walker.push(c);
        },
        createGunzip(),
      );
    } catch (e) {
      throw gzipError(e, max);
    }
  } else {
    await streamInto(createReadStream(path), (c) => walker.push(c));
  }
  return blendResult(walker, compression, size);
}

async function streamInto(
  source: NodeJS.ReadableStream,
  onChunk: (chunk: Buffer) => void,
  transform?: NodeJS.ReadWriteStream,
): Promise<void> {
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      try {
        onChunk(chunk);
        cb();
      } catch (e) {
        cb(e as Error);
      }
    },
  });
  if (transform) await pipeline(source, transform, sink);
  else await pipeline(source, sink);
}

function blendResult(
  walker: BlendStructureWalker,
  compression: BlendCompression,
  storedBytes: number,
): BlendCheckResult {
  const s = walker.finish();
  return {
    compression,
    structurallyChecked: true,
    storedBytes,
    uncompressedBytes: s.bytes + s.trailingBytes,
    header: s.header,
    blockCount: s.blockCount,
    trailingBytes: s.trailingBytes,
  };
}

function zstdResult(z: ZstdFrameWalker, storedBytes: number): BlendCheckResult {
  const s = z.finish();
  return {
    compression: 'zstd',
    structurallyChecked: false,
    storedBytes,
    uncompressedBytes: s.contentBytes,
    header: null,
    blockCount: null,
    trailingBytes: 0,
  };
}

function tooLarge(max: number): BlendFileError {
  return new BlendFileError(
    'TOO_LARGE',
    `gzip-compressed .blend inflates to more than ${max} bytes`,
  );
}

function gzipError(e: unknown, max: number): BlendFileError {
  if (e instanceof BlendFileError) return e;
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) return tooLarge(max);
  if (/unexpected end of file/i.test(err.message)) {
    return new BlendFileError('TRUNCATED', 'truncated .blend: the gzip stream ends early');
  }
  return new BlendFileError('CORRUPT', `corrupt gzip-compressed .blend: ${err.message}`);
}
