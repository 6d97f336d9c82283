import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { BlobNotFoundError, InvalidBlobKeyError } from './blob-storage';
import { BlobUrlSigner } from './blob-url-signer';
import { BlobTooLargeError } from './byte-limit';
import { FsBlobStorage } from './fs-blob-storage';

const KEY = 'results/job-1/shard-1/lease-1.png';

describe('FsBlobStorage', () => {
  let dir: string;
  let storage: FsBlobStorage;
  const signer = new BlobUrlSigner('test-secret-test-secret', 'http://127.0.0.1:8080');

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-fs-blobs-'));
    storage = new FsBlobStorage(dir, signer, 600);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const tmpFiles = () => readdir(join(dir, '.tmp')).catch(() => []);

  it('puts, heads, gets and deletes a buffer', async () => {
    const body = Buffer.from('hello tiles');
    await storage.put(KEY, body);
    expect(await storage.head(KEY)).toEqual({ size: body.length });
    expect(await storage.get(KEY)).toEqual(body);
    expect(await readdir(join(dir, 'results', 'job-1', 'shard-1'))).toEqual(['lease-1.png']);

    await storage.delete(KEY);
    expect(await storage.head(KEY)).toBeNull();
    await expect(storage.get(KEY)).rejects.toThrow(BlobNotFoundError);
    await storage.delete(KEY); // idempotent
  });

  it('gets within a byte limit, and refuses a larger blob or a folder', async () => {
    await storage.put(KEY, Buffer.alloc(100, 7));
    expect(await storage.get(KEY, { maxBytes: 100 })).toEqual(Buffer.alloc(100, 7));
    await expect(storage.get(KEY, { maxBytes: 99 })).rejects.toThrow(BlobTooLargeError);
    await expect(storage.get('results/job-1/shard-1')).rejects.toThrow(BlobNotFoundError);
    await storage.put(KEY, Buffer.alloc(0));
    expect(await storage.get(KEY, { maxBytes: 0 })).toEqual(Buffer.alloc(0));
  });

  it('puts a stream and streams it back', async () => {
    const chunks = Array.from({ length: 50 }, (_, i) => Buffer.alloc(10_000, i));
    await storage.put(KEY, Readable.from(chunks));
    const back: Buffer[] = [];
    for await (const c of await storage.getStream(KEY)) back.push(c as Buffer);
    expect(Buffer.concat(back).equals(Buffer.concat(chunks))).toBe(true); // toEqual on 500 kB is slow
    expect(await tmpFiles()).toEqual([]);
  });

  it('overwrites a key', async () => {
    await storage.put(KEY, Buffer.from('one'));
    await storage.put(KEY, Buffer.from('two, longer'));
    expect((await storage.get(KEY)).toString()).toBe('two, longer');
  });

  it('makes a blob visible only once it is complete', async () => {
    const body = new PassThrough();
    const done = storage.put(KEY, body);
    body.write(Buffer.alloc(1000, 1));
    await new Promise((r) => setTimeout(r, 20));
    expect(await storage.head(KEY)).toBeNull();
    expect(await tmpFiles()).toHaveLength(1);
    body.end(Buffer.alloc(1000, 2));
    await done;
    expect(await storage.head(KEY)).toEqual({ size: 2000 });
    expect(await tmpFiles()).toEqual([]);
  });

  it('leaves no partial blob when the body fails, and keeps the previous one', async () => {
    await storage.put(KEY, Buffer.from('previous'));
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(5000, 7));
        this.destroy(new Error('client went away'));
      },
    });
    await expect(storage.put(KEY, failing)).rejects.toThrow('client went away');
    expect((await storage.get(KEY)).toString()).toBe('previous');
    expect(await tmpFiles()).toEqual([]);

    const fresh = 'frames/job-1/7.png';
    await expect(
      storage.put(
        fresh,
        Readable.from(
          (async function* () {
            yield Buffer.alloc(10);
            throw new Error('boom');
          })(),
        ),
      ),
    ).rejects.toThrow('boom');
    expect(await storage.head(fresh)).toBeNull();
  });

  it('reports missing blobs as BlobNotFoundError or null', async () => {
    await expect(storage.get('frames/nope/1.png')).rejects.toThrow(BlobNotFoundError);
    await expect(storage.getStream('frames/nope/1.png')).rejects.toThrow(BlobNotFoundError);
    expect(await storage.head('frames/nope/1.png')).toBeNull();
    // A key that is a "directory" of other keys is not a blob.
    await storage.put(KEY, Buffer.from('x'));
    expect(await storage.head('results/job-1')).toBeNull();
    await expect(storage.get('results/job-1')).rejects.toThrow(BlobNotFoundError);
    // A path through a file is missing, not an error.
    expect(await storage.head(`${KEY}/deeper`)).toBeNull();
  });

  it('refuses invalid keys before touching the disk', async () => {
    await expect(storage.put('../escape.png', Buffer.from('x'))).rejects.toThrow(
      InvalidBlobKeyError,
    );
    await expect(storage.get('.tmp/whatever')).rejects.toThrow(InvalidBlobKeyError);
    expect(await readdir(dir)).toEqual([]);
  });

  it('presigns URLs the signer verifies', async () => {
    const put = new URL(await storage.presignPut(KEY, { maxBytes: 99, contentType: 'image/png' }));
    const get = new URL(await storage.presignGet(KEY, 30));
    const query = (u: URL) => Object.fromEntries(u.searchParams);
    expect(put.pathname).toBe(`/api/v1/blobs/${KEY}`);
    expect(signer.verify('put', KEY, query(put))).toMatchObject({ max: 99, ct: 'image/png' });
    const claims = signer.verify('get', KEY, query(get));
    expect(claims.exp - Date.now() / 1000).toBeLessThanOrEqual(30);
  });
});
