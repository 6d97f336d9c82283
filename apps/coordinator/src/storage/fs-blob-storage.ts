import { randomUUID } from 'node:crypto';
import { type FileHandle, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import {
  assertValidKey,
  BlobNotFoundError,
  type BlobStorage,
  type GetOptions,
  type PresignPutOptions,
  type ByteRange,
} from './blob-storage';
import type { BlobUrlSigner } from './blob-url-signer';
import { BlobTooLargeError } from './byte-limit';

/** Missing file, or a path through something that is not a directory. */
function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}

/**
 * Reads a file of known size; a tile takes one read call (FileHandle.readFile would stat the file
 * again, and read once more to find the end). Blobs are replaced by rename, never rewritten in
 * place, so the open file keeps the size it had.
 */
async function readAll(file: FileHandle, size: number): Promise<Buffer> {
  const bytes = Buffer.allocUnsafe(size);
  let filled = 0;
  while (filled < size) {
    const { bytesRead } = await file.read(bytes, filled, size - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled === size ? bytes : bytes.subarray(0, filled);
}

/**
 * Blobs as files under one directory (the embedded default). Presigned URLs point at the
 * coordinator's own BlobsController, signed by BlobUrlSigner.
 */
export class FsBlobStorage implements BlobStorage {
  private readonly root: string;
  // Same filesystem as the blobs so rename() is atomic; keys cannot start with '.', so no key
  // ever names a temp file.
  private readonly tmpDir: string;

  constructor(
    dir: string,
    private readonly signer: BlobUrlSigner,
    private readonly defaultTtlSeconds: number,
  ) {
    this.root = resolve(dir);
    this.tmpDir = join(this.root, '.tmp');
  }

  private path(key: string): string {
    assertValidKey(key);
    return join(this.root, ...key.split('/'));
  }

  async put(key: string, body: Buffer | Readable): Promise<void> {
    const target = this.path(key);
    const tmp = join(this.tmpDir, randomUUID());
    try {
      const file = await this.inDirectory(tmp, () => open(tmp, 'wx'));
      try {
        if (Buffer.isBuffer(body)) {
          await file.writeFile(body);
        } else {
          // A plain loop rather than pipeline() into file.createWriteStream(): that combination
          // can hang after 'finish' (seen under jest), and a failing body throws right here.
          for await (const chunk of body) await file.write(chunk as Buffer);
        }
        // Durable before visible: after a crash the key holds the old blob or the whole new one.
        await file.sync();
      } finally {
        await file.close();
      }
      await this.inDirectory(target, () => rename(tmp, target));
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Runs `create` (which makes `path`), making the parent directory first when it is missing.
   * Directories are made on demand rather than before every write: with a tile's directory per
   * job, the mkdir before each of them was most of the upload's file system calls.
   */
  private async inDirectory<T>(path: string, create: () => Promise<T>): Promise<T> {
    try {
      return await create();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await mkdir(dirname(path), { recursive: true });
      return create();
    }
  }

  async get(key: string, opts: GetOptions = {}): Promise<Buffer> {
    const { file, size } = await this.openBlob(key);
    try {
      // The size, from the open file, is checked against the limit before a byte is read.
      if (opts.maxBytes !== undefined && size > opts.maxBytes) {
        throw new BlobTooLargeError(opts.maxBytes);
      }
      return await readAll(file, size);
    } finally {
      await file.close();
    }
  }

  async getStream(key: string, range?: ByteRange): Promise<Readable> {
    // Opened first, so that a missing blob rejects here instead of erroring mid-response.
    const { file } = await this.openBlob(key);
    return file.createReadStream(range ? { start: range.start, end: range.end } : {});
  }

  /** The blob's open file and its size. @throws BlobNotFoundError (also for a directory) */
  private async openBlob(key: string): Promise<{ file: FileHandle; size: number }> {
    let file: FileHandle;
    try {
      file = await open(this.path(key), 'r');
    } catch (err) {
      if (isMissing(err)) throw new BlobNotFoundError(key);
      throw err;
    }
    const stats = await file.stat();
    if (!stats.isFile()) {
      await file.close();
      throw new BlobNotFoundError(key);
    }
    return { file, size: stats.size };
  }

  async head(key: string): Promise<{ size: number } | null> {
    try {
      const s = await stat(this.path(key));
      return s.isFile() ? { size: s.size } : null;
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await unlink(this.path(key));
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
  }

  async presignGet(key: string, ttlSeconds = this.defaultTtlSeconds): Promise<string> {
    return this.signer.sign('get', key, { ttlSeconds });
  }

  async presignPut(key: string, opts: PresignPutOptions): Promise<string> {
    return this.signer.sign('put', key, {
      ttlSeconds: opts.ttlSeconds ?? this.defaultTtlSeconds,
      maxBytes: opts.maxBytes,
      contentType: opts.contentType,
    });
  }
}
