import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { BlobCache } from './blob-cache';

/** Tiles are far smaller (a 640x360 PNG: 0.1-0.5 MB); a larger upload is read back instead. */
const MAX_KEPT_UPLOAD_BYTES = 8 * 1024 ** 2;

/**
 * The bytes of blobs this process has just stored through a presigned PUT (fs driver), kept
 * until the completion that follows takes them, so that it checks the tile without reading the
 * file back (four file system calls of a lease cycle's nine). What is taken equals what storage
 * holds unless the same URL was used again through another replica in between: then the
 * completion checks the bytes this replica stored, and every later read of the tile finds it
 * changed (CheckedBlobs), as for a tile rewritten after it was accepted.
 */
@Injectable()
export class RecentUploads {
  private readonly uploads: BlobCache<{ bytes: Buffer }>;
  /**
   * The largest upload kept. An upload's bytes are held in memory while it streams to storage,
   * so this bounds what each PUT in flight holds, not only what stays kept afterwards.
   */
  readonly keepUpTo: number;

  constructor(@Inject(APP_CONFIG) config: Pick<AppConfig, 'RESULT_CACHE_BYTES'>) {
    this.uploads = new BlobCache(config.RESULT_CACHE_BYTES);
    this.keepUpTo = Math.min(config.RESULT_CACHE_BYTES, MAX_KEPT_UPLOAD_BYTES);
  }

  /** `bytes` were stored under `key` by this process (null: stored, but too large to keep). */
  stored(key: string, bytes: Buffer | null): void {
    if (bytes) this.uploads.set(key, { bytes });
    else this.uploads.delete(key);
  }

  /** The bytes last stored under `key` by this process, if still kept; taken, not kept on. */
  take(key: string): Buffer | undefined {
    return this.uploads.take(key)?.bytes;
  }
}
