import { Global, Module, NotFoundException, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { configureApp, HTTP_OPTIONS, httpAdapter } from '../app';
import { APP_CONFIG, loadConfig, type AppConfig } from '../config/config';
import { BLOB_STORAGE, type BlobStorage } from './blob-storage';
import { BlobUrlSigner } from './blob-url-signer';
import { BlobUrlService } from './blob-url.service';
import { RecentUploads } from './recent-uploads';
import { StorageModule } from './storage.module';

const KEY = 'results/job-1/shard-1/lease-1.png';

/** Path and query of a presigned URL, for supertest. */
const local = (url: string) => {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
};

describe('BlobsController (fs driver, over HTTP)', () => {
  let dir: string;
  let config: AppConfig;
  let app: INestApplication;
  let server: Server;
  let storage: BlobStorage;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-blobs-http-'));
    config = loadConfig({
      NODE_ENV: 'test',
      STORAGE_DRIVER: 'fs',
      STORAGE_DIR: dir,
      SECRET: 'blobs-controller-test-secret',
      PUBLIC_URL: 'http://127.0.0.1:1',
    });

    @Global()
    @Module({ providers: [{ provide: APP_CONFIG, useValue: config }], exports: [APP_CONFIG] })
    class TestConfigModule {}

    @Module({ imports: [TestConfigModule, StorageModule] })
    class TestAppModule {}

    // The real app's body parsers and pipes: binary uploads must get past the parsers unread,
    // the raw query and wildcard params through the validation pipe untouched.
    app = await NestFactory.create(TestAppModule, httpAdapter(), {
      ...HTTP_OPTIONS,
      logger: false,
    });
    configureApp(app);
    await app.listen(0, '127.0.0.1');
    server = app.getHttpServer();
    storage = app.get(BLOB_STORAGE);
  });

  afterAll(async () => {
    await app?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const putUrl = (key = KEY, maxBytes = 1000) =>
    storage.presignPut(key, { maxBytes, contentType: 'image/png' });

  it('uploads through a presigned PUT and downloads through a presigned GET', async () => {
    const body = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7) & 255));
    const put = await request(server)
      .put(local(await putUrl()))
      .set('Content-Type', 'image/png')
      .send(body);
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ key: KEY, size: 1000 });
    expect((await storage.get(KEY)).equals(body)).toBe(true);
    // kept for the completion that follows, once
    const uploads = app.get(RecentUploads);
    expect(uploads.take(KEY)?.equals(body)).toBe(true);
    expect(uploads.take(KEY)).toBeUndefined();

    const get = await request(server)
      .get(local(await storage.presignGet(KEY)))
      .responseType('blob');
    expect(get.status).toBe(200);
    expect(get.headers['content-type']).toBe('image/png');
    expect(get.headers['content-length']).toBe('1000');
    expect(Buffer.from(get.body).equals(body)).toBe(true);
  });

  it('serves byte ranges, so that an interrupted download resumes (206, 416)', async () => {
    const body = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 13) & 255));
    await storage.put(KEY, body);
    const url = local(await storage.presignGet(KEY));
    const part = await request(server).get(url).set('Range', 'bytes=600-').responseType('blob');
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe('bytes 600-999/1000');
    expect(part.headers['content-length']).toBe('400');
    expect(Buffer.from(part.body).equals(body.subarray(600))).toBe(true);
    const whole = await request(server).get(url).responseType('blob');
    expect(whole.headers['accept-ranges']).toBe('bytes');
    const past = await request(server).get(url).set('Range', 'bytes=1000-');
    expect(past.status).toBe(416);
  });

  it('rejects a URL whose key was changed (403), and stores nothing', async () => {
    const url = local(await putUrl('results/job-1/shard-2/lease-2.png'));
    const res = await request(server)
      .put(url.replace('shard-2', 'shard-3'))
      .set('Content-Type', 'image/png')
      .send(Buffer.alloc(10));
    expect(res.status).toBe(403);
    expect(res.body.message).toMatch(/signature does not match/);
    expect(await storage.head('results/job-1/shard-3/lease-2.png')).toBeNull();
  });

  it('rejects a tampered max or a PUT URL used for GET (403)', async () => {
    const url = local(await putUrl('frames/job-1/1.png', 10));
    const bigger = await request(server)
      .put(url.replace('max=10', 'max=10000'))
      .set('Content-Type', 'image/png')
      .send(Buffer.alloc(100));
    expect(bigger.status).toBe(403);
    const asGet = await request(server).get(url);
    expect(asGet.status).toBe(403);
    expect(asGet.body.message).toMatch(/signed for put, not get/);
  });

  it('rejects an expired URL (403)', async () => {
    await storage.put('frames/job-1/2.png', Buffer.from('x'));
    const signer = app.get(BlobUrlSigner);
    const url = signer.sign('get', 'frames/job-1/2.png', { ttlSeconds: 5 }, Date.now() - 60_000);
    const res = await request(server).get(local(url));
    expect(res.status).toBe(403);
    expect(res.body.message).toMatch(/expired/);
  });

  it('rejects an upload over max by its Content-Length (413), and stores nothing', async () => {
    const key = 'results/job-1/shard-4/lease-4.png';
    const res = await request(server)
      .put(local(await putUrl(key, 1000)))
      .set('Content-Type', 'image/png')
      .send(Buffer.alloc(1001));
    expect(res.status).toBe(413);
    expect(await storage.head(key)).toBeNull();
  });

  it('enforces max while streaming a chunked upload (413), and stores nothing', async () => {
    const key = 'results/job-1/shard-5/lease-5.png';
    const url = new URL(local(await putUrl(key, 64 * 1024)), 'http://x');
    const { port } = server.address() as AddressInfo;
    // No Content-Length: 4 MiB in 64 KiB chunks, far past the limit.
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: 'PUT',
          path: `${url.pathname}${url.search}`,
          headers: { 'Content-Type': 'image/png', 'Transfer-Encoding': 'chunked' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      );
      req.on('error', reject);
      let sent = 0;
      const pump = () => {
        while (sent < 64 && req.write(Buffer.alloc(64 * 1024, 1))) sent++;
        if (sent >= 64) req.end();
        else req.once('drain', () => (sent++, pump()));
      };
      pump();
    });
    expect(status).toBe(413);
    expect(await storage.head(key)).toBeNull();
    expect(await readdir(join(dir, '.tmp'))).toEqual([]);
    expect(app.get(RecentUploads).take(key)).toBeUndefined();
  });

  it('drops a partial upload when the client disconnects', async () => {
    const key = 'results/job-1/shard-6/lease-6.png';
    const url = new URL(await putUrl(key, 1024 * 1024));
    const { port } = server.address() as AddressInfo;
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'PUT',
      path: `${url.pathname}${url.search}`,
      headers: { 'Content-Type': 'image/png', 'Content-Length': String(1024 * 1024) },
    });
    req.on('error', () => undefined);
    req.write(Buffer.alloc(100 * 1024, 1));
    await new Promise((r) => setTimeout(r, 50));
    req.destroy();
    await new Promise((r) => setTimeout(r, 100));
    expect(await storage.head(key)).toBeNull();
    expect(await readdir(join(dir, '.tmp'))).toEqual([]);
  });

  it('requires the signed Content-Type (415)', async () => {
    const res = await request(server)
      .put(local(await putUrl()))
      .set('Content-Type', 'application/octet-stream')
      .send(Buffer.alloc(10));
    expect(res.status).toBe(415);
    expect(res.body.message).toMatch(/must be image\/png/);
  });

  it('refuses a body the JSON parser already consumed (415)', async () => {
    const key = 'thumbs/job-1/1.json';
    const url = await storage.presignPut(key, { maxBytes: 1000 });
    const res = await request(server).put(local(url)).send({ hello: 'world' });
    expect(res.status).toBe(415);
    expect(await storage.head(key)).toBeNull();
  });

  it('answers 404 for a missing blob and for a request without a signature', async () => {
    const missing = await request(server).get(
      local(await storage.presignGet('frames/job-9/1.png')),
    );
    expect(missing.status).toBe(404);
    const unsigned = await request(server).get(`/api/v1/blobs/${KEY}`);
    expect(unsigned.status).toBe(403);
    expect(unsigned.body.message).toMatch(/not a presigned URL/);
  });

  it('is switched off with the S3 driver (404)', async () => {
    const s3Config = { ...config, STORAGE_DRIVER: 's3' } as AppConfig;
    const service = new BlobUrlService(
      s3Config,
      storage,
      app.get(BlobUrlSigner),
      app.get(RecentUploads),
    );
    const query = Object.fromEntries(new URL(await storage.presignGet(KEY)).searchParams);
    await expect(service.openDownload(KEY, query)).rejects.toThrow(NotFoundException);
  });
});
