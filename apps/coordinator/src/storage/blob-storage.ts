import type { Readable } from 'node:stream';

export interface PutOptions {
  contentType?: string;
}

export interface PresignPutOptions {
  ttlSeconds?: number;
  /** the uploader must send exactly this Content-Type */
  contentType?: string;
  /** largest body the URL accepts (the fs driver enforces it; see S3BlobStorage for S3) */
  maxBytes: number;
}

export interface GetOptions {
  /** refuse a larger blob, without reading it */
  maxBytes?: number;
}

/** Inclusive byte offsets, as in an HTTP Range header. */
export interface ByteRange {
  start: number;
  end: number;
}

/** Where scenes, tiles, frames and thumbnails live. Keys are validated by `assertValidKey`. */
export interface BlobStorage {
  put(key: string, body: Buffer | Readable, opts?: PutOptions): Promise<void>;
  /**
   * @throws BlobNotFoundError
   * @throws BlobTooLargeError when `opts.maxBytes` is given and the blob is larger (nothing more
   *   than its size is read then)
   */
  get(key: string, opts?: GetOptions): Promise<Buffer>;
  /** @throws BlobNotFoundError (before any byte is streamed); `range` must lie within the blob */
  getStream(key: string, range?: ByteRange): Promise<Readable>;
  head(key: string): Promise<{ size: number } | null>;
  /** idempotent: deleting a missing key is not an error */
  delete(key: string): Promise<void>;
  presignGet(key: string, ttlSeconds?: number): Promise<string>;
  presignPut(key: string, opts: PresignPutOptions): Promise<string>;
}

export const BLOB_STORAGE = Symbol('BLOB_STORAGE');

export class BlobNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`blob not found: ${key}`);
    this.name = 'BlobNotFoundError';
  }
}

export class InvalidBlobKeyError extends Error {
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(`invalid blob key ${JSON.stringify(key.slice(0, 80))}: ${reason}`);
    this.name = 'InvalidBlobKeyError';
  }
}

// Keys end up as file paths and in URLs: a tiny alphabet keeps both free of escaping and traversal.
const SEGMENT = /^[a-z0-9][a-z0-9._-]*$/;
export const MAX_KEY_LENGTH = 512;
const MAX_DEPTH = 8;

/** e.g. `scenes/<sha256>.blend`, `results/<job>/<shard>.<lease>.png`, `frames/<job>/<n>.png`. */
export function assertValidKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0)
    throw new InvalidBlobKeyError(String(key), 'empty');
  if (key.length > MAX_KEY_LENGTH)
    throw new InvalidBlobKeyError(key, `longer than ${MAX_KEY_LENGTH}`);
  const segments = key.split('/');
  if (segments.length < 2) throw new InvalidBlobKeyError(key, 'needs a prefix such as scenes/');
  if (segments.length > MAX_DEPTH) throw new InvalidBlobKeyError(key, `deeper than ${MAX_DEPTH}`);
  for (const segment of segments) {
    // Segments must start with [a-z0-9]: rules out '', '.', '..' and hidden files (the fs driver's
    // temp directory is `.tmp`, so no key can ever reach it).
    if (!SEGMENT.test(segment)) {
      throw new InvalidBlobKeyError(key, 'segments must match [a-z0-9][a-z0-9._-]*');
    }
  }
}

export function isValidKey(key: string): boolean {
  try {
    assertValidKey(key);
    return true;
  } catch {
    return false;
  }
}

const CONTENT_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  exr: 'image/x-exr',
  json: 'application/json',
};

/** Content type to serve a key with when the store does not remember one. */
export function contentTypeForKey(key: string): string {
  const ext = key.slice(key.lastIndexOf('.') + 1);
  return CONTENT_TYPES[ext] ?? 'application/octet-stream';
}
