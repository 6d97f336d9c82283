// The S3 blob driver against a real S3 protocol server (s3rver, in-process). No Postgres needed.
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { loadConfig } from '../apps/coordinator/src/config/config';
import {
  BlobNotFoundError,
  InvalidBlobKeyError,
} from '../apps/coordinator/src/storage/blob-storage';
import { BlobTooLargeError } from '../apps/coordinator/src/storage/byte-limit';
import { S3BlobStorage } from '../apps/coordinator/src/storage/s3-blob-storage';
import { startS3Server, type S3TestServer } from './support/s3-server';

describe('S3BlobStorage (s3rver)', () => {
  let s3: S3TestServer;
  let storage: S3BlobStorage;

  beforeAll(async () => {
    s3 = await startS3Server();
    const config = loadConfig({
      NODE_ENV: 'test',
      STORAGE_DRIVER: 's3',
      S3_ENDPOINT: s3.endpoint,
      S3_REGION: s3.region,
      S3_BUCKET: s3.bucket,
      S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      S3_FORCE_PATH_STYLE: 'true',
    });
    storage = S3BlobStorage.fromConfig(config);
  });

  afterAll(async () => {
    storage?.destroy();
    await s3?.stop();
  });

  it('creates the bucket when missing, and tolerates it existing', async () => {
    const client = new S3Client({
      endpoint: s3.endpoint,
      region: s3.region,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    });
    const head = () => client.send(new HeadBucketCommand({ Bucket: s3.bucket }));
    await expect(head()).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
    await storage.ensureBucket();
    await expect(head()).resolves.toBeDefined();
    await storage.ensureBucket();
    client.destroy();
  });

  it('puts, heads, gets, streams and deletes', async () => {
    const key = 'frames/job-1/1.png';
    const body = randomBytes(10_000);
    await storage.put(key, body, { contentType: 'image/png' });
    expect(await storage.head(key)).toEqual({ size: body.length });
    expect((await storage.get(key)).equals(body)).toBe(true);
    const chunks: Buffer[] = [];
    for await (const c of await storage.getStream(key)) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(body)).toBe(true);

    await storage.delete(key);
    expect(await storage.head(key)).toBeNull();
    await storage.delete(key); // idempotent, like the fs driver
  });

  it('gets within a byte limit and refuses a larger object in the same request', async () => {
    const key = 'results/job-1/shard-1.lease-1.png';
    const body = randomBytes(10_000);
    await storage.put(key, body, { contentType: 'image/png' });
    expect((await storage.get(key, { maxBytes: body.length })).equals(body)).toBe(true);
    await expect(storage.get(key, { maxBytes: body.length - 1 })).rejects.toThrow(
      BlobTooLargeError,
    );
    await expect(storage.get('results/job-1/none.png', { maxBytes: 10 })).rejects.toThrow(
      BlobNotFoundError,
    );
  });

  it('puts a small stream in one request and a large one as a multipart upload', async () => {
    // A client of our own, to see which commands the driver sends.
    const client = new S3Client({
      endpoint: s3.endpoint,
      region: s3.region,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
    const sent: string[] = [];
    client.middlewareStack.add(
      (next, context) => (args) => {
        sent.push(String(context.commandName));
        return next(args);
      },
      { step: 'initialize' },
    );
    const spied = new S3BlobStorage(client, s3.bucket, 60);

    const small = randomBytes(1000);
    await spied.put(
      'scenes/small.blend',
      Readable.from([small.subarray(0, 500), small.subarray(500)]),
    );
    expect(sent).toEqual(['PutObjectCommand']);
    expect((await storage.get('scenes/small.blend')).equals(small)).toBe(true);

    // 8 MiB parts: 20 MiB goes up as three parts.
    sent.length = 0;
    const large = randomBytes(20 * 1024 * 1024);
    const pieces = Array.from({ length: 80 }, (_, i) =>
      large.subarray(i * 262_144, (i + 1) * 262_144),
    );
    await spied.put('scenes/large.blend', Readable.from(pieces));
    expect(sent).toEqual([
      'CreateMultipartUploadCommand',
      'UploadPartCommand',
      'UploadPartCommand',
      'UploadPartCommand',
      'CompleteMultipartUploadCommand',
    ]);
    expect(await storage.head('scenes/large.blend')).toEqual({ size: large.length });
    expect((await storage.get('scenes/large.blend')).equals(large)).toBe(true);

    // A body that fails after the first part: the multipart upload is aborted, nothing appears.
    sent.length = 0;
    const failing = Readable.from(
      (async function* () {
        yield large.subarray(0, 9 * 1024 * 1024);
        throw new Error('client went away');
      })(),
    );
    await expect(spied.put('scenes/failed.blend', failing)).rejects.toThrow('client went away');
    expect(sent).toEqual([
      'CreateMultipartUploadCommand',
      'UploadPartCommand',
      'AbortMultipartUploadCommand',
    ]);
    expect(await storage.head('scenes/failed.blend')).toBeNull();
    client.destroy();
  });

  it('reports a missing object as BlobNotFoundError or null', async () => {
    await expect(storage.get('frames/nope/1.png')).rejects.toThrow(BlobNotFoundError);
    await expect(storage.getStream('frames/nope/1.png')).rejects.toThrow(BlobNotFoundError);
    expect(await storage.head('frames/nope/1.png')).toBeNull();
  });

  it('validates keys like the fs driver', async () => {
    await expect(storage.put('../x.png', Buffer.from('x'))).rejects.toThrow(InvalidBlobKeyError);
  });

  it('uploads through a presigned PUT and downloads through a presigned GET', async () => {
    const key = 'results/job-1/shard-1/lease-1.png';
    const body = randomBytes(50_000);
    const putUrl = await storage.presignPut(key, {
      maxBytes: 1024 * 1024,
      contentType: 'image/png',
      ttlSeconds: 120,
    });
    const signed = new URL(putUrl).searchParams;
    expect(signed.get('X-Amz-SignedHeaders')).toBe('content-type;host');
    expect(signed.get('x-amz-checksum-crc32')).toBeNull();

    const put = await fetch(putUrl, {
      method: 'PUT',
      body,
      headers: { 'Content-Type': 'image/png' },
    });
    expect(put.status).toBe(200);

    const get = await fetch(await storage.presignGet(key, 120));
    expect(get.status).toBe(200);
    expect(get.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await get.arrayBuffer()).equals(body)).toBe(true);
  });
});
