import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { BlobCache } from './blob-cache';
import { BLOB_STORAGE, type BlobStorage } from './blob-storage';

/** A blob whose bytes no longer hash to what was recorded when it was accepted. */
export class BlobChangedError extends Error {
  constructor(
    readonly key: string,
    readonly actual: string,
    /** what the key holds now */
    readonly bytes: Buffer,
  ) {
    super(`blob ${key} changed after it was accepted (its SHA-256 is now ${actual})`);
    this.name = 'BlobChangedError';
  }
}

export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Reads blobs by their recorded SHA-256 (accepted tiles) and checks it on every read: a node's
 * upload URL stays valid after its tile is accepted, so the bytes under the key can change, and
 * whatever verification compares and a frame is stitched from must be what the node signed.
 * Keeps the bytes of recently checked blobs (least recently used out first, within
 * RESULT_CACHE_BYTES), so that a tile hashed at its completion is not read again for its checks
 * and its frame.
 */
@Injectable()
export class CheckedBlobs {
  private readonly cached: BlobCache<{ sha256: string; bytes: Buffer }>;

  constructor(
    @Inject(BLOB_STORAGE) private readonly storage: BlobStorage,
    @Inject(APP_CONFIG) config: Pick<AppConfig, 'RESULT_CACHE_BYTES'>,
  ) {
    this.cached = new BlobCache(config.RESULT_CACHE_BYTES);
  }

  /** Bytes just checked against `sha256`, for the reads that follow. */
  remember(key: string, sha256: string, bytes: Buffer): void {
    this.cached.set(key, { sha256, bytes });
  }

  /** @throws BlobChangedError, BlobNotFoundError */
  async read(key: string, sha256: string): Promise<Buffer> {
    const hit = this.cached.get(key);
    if (hit && hit.sha256 === sha256) return hit.bytes;
    const bytes = await this.storage.get(key);
    const actual = sha256Hex(bytes);
    if (actual !== sha256) throw new BlobChangedError(key, actual, bytes);
    this.remember(key, sha256, bytes);
    return bytes;
  }
}
