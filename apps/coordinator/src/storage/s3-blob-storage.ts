import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Readable } from 'node:stream';
import type { AppConfig } from '../config/config';
import {
  assertValidKey,
  BlobNotFoundError,
  type BlobStorage,
  type GetOptions,
  type PresignPutOptions,
  type PutOptions,
  type ByteRange,
} from './blob-storage';
import { BlobTooLargeError } from './byte-limit';

// Streams of unknown length go up as multipart uploads, one part in memory at a time.
// S3's minimum part is 5 MiB; 8 MiB keeps a 2 GiB scene well under the 10,000-part limit.
const PART_BYTES = 8 * 1024 * 1024;

type S3Settings = Pick<
  AppConfig,
  | 'S3_ENDPOINT'
  | 'S3_REGION'
  | 'S3_BUCKET'
  | 'S3_ACCESS_KEY_ID'
  | 'S3_SECRET_ACCESS_KEY'
  | 'S3_FORCE_PATH_STYLE'
  | 'PRESIGN_TTL_S'
>;

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } } | null;
  if (e?.name === 'NoSuchBucket') return false; // misconfiguration, not a missing blob
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

/**
 * Blobs in any S3-compatible store. Note on presignPut: S3 cannot put a *maximum* size into a
 * presigned PUT (signing Content-Length demands that exact length), so `maxBytes` is not enforced
 * by the URL; check `head(key).size` before accepting an upload.
 */
export class S3BlobStorage implements BlobStorage {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly defaultTtlSeconds: number,
  ) {}

  static fromConfig(config: S3Settings): S3BlobStorage {
    if (!config.S3_BUCKET) throw new Error('S3_BUCKET is required with STORAGE_DRIVER=s3');
    const credentials =
      config.S3_ACCESS_KEY_ID && config.S3_SECRET_ACCESS_KEY
        ? { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY }
        : undefined; // fall back to the SDK's default chain (env, instance role, ...)
    const client = new S3Client({
      region: config.S3_REGION,
      endpoint: config.S3_ENDPOINT,
      forcePathStyle: config.S3_FORCE_PATH_STYLE,
      credentials,
      // The SDK's default adds CRC32 checksums: presigned PUTs would carry the checksum of an
      // empty body, and several S3-compatible servers reject or mangle checksummed uploads.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    return new S3BlobStorage(client, config.S3_BUCKET, config.PRESIGN_TTL_S);
  }

  /** Creates the bucket when it does not exist; safe to race between replicas. */
  async ensureBucket(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return;
    } catch (err) {
      if (!isNotFound(err) && (err as { name?: string }).name !== 'NoSuchBucket') throw err;
    }
    try {
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw err;
    }
  }

  async put(key: string, body: Buffer | Readable, opts: PutOptions = {}): Promise<void> {
    assertValidKey(key);
    if (Buffer.isBuffer(body)) {
      await this.putObject(key, body, opts.contentType);
    } else {
      await this.putStream(key, body, opts.contentType);
    }
  }

  private async putObject(key: string, body: Buffer, contentType?: string): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentLength: body.length,
        ContentType: contentType,
      }),
    );
  }

  private async putStream(key: string, body: Readable, contentType?: string): Promise<void> {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let uploadId: string | undefined;
    const parts: CompletedPart[] = [];

    const uploadPart = async (): Promise<void> => {
      if (!uploadId) {
        const created = await this.client.send(
          new CreateMultipartUploadCommand({
            Bucket: this.bucket,
            Key: key,
            ContentType: contentType,
          }),
        );
        uploadId = created.UploadId;
      }
      const PartNumber = parts.length + 1;
      const part = await this.client.send(
        new UploadPartCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber,
          Body: Buffer.concat(pending, pendingBytes),
          ContentLength: pendingBytes,
        }),
      );
      parts.push({ ETag: part.ETag, PartNumber });
      pending = [];
      pendingBytes = 0;
    };

    try {
      for await (const chunk of body) {
        const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array | string);
        pending.push(buf);
        pendingBytes += buf.length;
        if (pendingBytes >= PART_BYTES) await uploadPart();
      }
      if (!uploadId) {
        // Small stream: one plain PUT, no multipart bookkeeping.
        await this.putObject(key, Buffer.concat(pending, pendingBytes), contentType);
        return;
      }
      if (pendingBytes > 0) await uploadPart();
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
    } catch (err) {
      if (uploadId) {
        // Abandoned parts are billed until aborted.
        await this.client
          .send(
            new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }),
          )
          .catch(() => undefined);
      }
      throw err;
    }
  }

  async get(key: string, opts: GetOptions = {}): Promise<Buffer> {
    const { maxBytes } = opts;
    const { body, size } = await this.open(key);
    // One request: the size comes with the object, and a larger one is dropped unread.
    if (maxBytes !== undefined && size !== undefined && size > maxBytes) {
      body.destroy();
      throw new BlobTooLargeError(maxBytes);
    }
    const chunks: Buffer[] = [];
    let read = 0;
    for await (const chunk of body) {
      read += (chunk as Buffer).length;
      // a store that sent no length is held to the limit as the bytes arrive
      if (maxBytes !== undefined && read > maxBytes) {
        body.destroy();
        throw new BlobTooLargeError(maxBytes);
      }
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  }

  async getStream(key: string, range?: ByteRange): Promise<Readable> {
    return (await this.open(key, range)).body;
  }

  private async open(key: string, range?: ByteRange): Promise<{ body: Readable; size?: number }> {
    assertValidKey(key);
    try {
      const out = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Range: range ? `bytes=${range.start}-${range.end}` : undefined,
        }),
      );
      if (!(out.Body instanceof Readable)) throw new Error('S3 GetObject returned no Node stream');
      return { body: out.Body, size: out.ContentLength };
    } catch (err) {
      if (isNotFound(err)) throw new BlobNotFoundError(key);
      throw err;
    }
  }

  async head(key: string): Promise<{ size: number } | null> {
    assertValidKey(key);
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: out.ContentLength ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async presignGet(key: string, ttlSeconds = this.defaultTtlSeconds): Promise<string> {
    assertValidKey(key);
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
      expiresIn: ttlSeconds,
    });
  }

  async presignPut(key: string, opts: PresignPutOptions): Promise<string> {
    assertValidKey(key);
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: key,
      ContentType: opts.contentType,
    });
    return getSignedUrl(this.client, command, {
      expiresIn: opts.ttlSeconds ?? this.defaultTtlSeconds,
      // The presigner leaves Content-Type unsigned unless asked; sign it so the uploader must
      // send exactly the type the lease promised.
      signableHeaders: opts.contentType ? new Set(['content-type']) : undefined,
    });
  }

  /** For shutdown hooks: closes the client's sockets. */
  destroy(): void {
    this.client.destroy();
  }
}
