import { Transform, type TransformCallback } from 'node:stream';

export class BlobTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`body exceeds the limit of ${maxBytes} bytes`);
    this.name = 'BlobTooLargeError';
  }
}

/**
 * Passes bytes through and fails as soon as more than `maxBytes` have gone by. With `keepUpTo`,
 * it also keeps what went by while that is no more than `keepUpTo` bytes (see kept()).
 */
export class ByteLimit extends Transform {
  bytes = 0;
  private chunks: Buffer[] | null;

  constructor(
    private readonly maxBytes: number,
    private readonly keepUpTo = 0,
  ) {
    super();
    this.chunks = keepUpTo > 0 ? [] : null;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) return done(new BlobTooLargeError(this.maxBytes));
    if (this.chunks && this.bytes <= this.keepUpTo) this.chunks.push(chunk);
    else this.chunks = null;
    done(null, chunk);
  }

  /** Every byte that went by, when kept (`keepUpTo` set and not exceeded); else null. */
  kept(): Buffer | null {
    return this.chunks && Buffer.concat(this.chunks, this.bytes);
  }
}
