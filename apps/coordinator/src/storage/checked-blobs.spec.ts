import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobNotFoundError } from './blob-storage';
import { BlobUrlSigner } from './blob-url-signer';
import { BlobChangedError, CheckedBlobs, sha256Hex } from './checked-blobs';
import { FsBlobStorage } from './fs-blob-storage';

describe('CheckedBlobs', () => {
  let dir: string;
  let storage: FsBlobStorage;
  const signer = new BlobUrlSigner('test-secret-test-secret', 'http://127.0.0.1:8080');
  const tile = (n: number) => Buffer.alloc(100, n);
  const key = (n: number) => `results/job-1/shard-${n}.lease.png`;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-checked-blobs-'));
    storage = new FsBlobStorage(dir, signer, 600);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const blobs = (cacheBytes: number) =>
    new CheckedBlobs(storage, { RESULT_CACHE_BYTES: cacheBytes });
  it('reads a blob whose bytes match the recorded hash', async () => {
    await storage.put(key(1), tile(1));
    expect(await blobs(0).read(key(1), sha256Hex(tile(1)))).toEqual(tile(1));
  });

  it('refuses a blob rewritten after it was accepted, and a missing one', async () => {
    await storage.put(key(1), tile(2));
    await expect(blobs(0).read(key(1), sha256Hex(tile(1)))).rejects.toThrow(BlobChangedError);
    await expect(blobs(0).read(key(9), sha256Hex(tile(1)))).rejects.toThrow(BlobNotFoundError);
  });

  it('serves remembered bytes without reading storage, only under the same hash', async () => {
    const checked = blobs(1000);
    checked.remember(key(1), sha256Hex(tile(1)), tile(1));
    // Storage now holds other bytes under the key: the remembered, accepted ones are served.
    await storage.put(key(1), tile(2));
    expect(await checked.read(key(1), sha256Hex(tile(1)))).toEqual(tile(1));
    // Asked for under another hash, storage decides.
    expect(await checked.read(key(1), sha256Hex(tile(2)))).toEqual(tile(2));
  });

  it('forgets the least recently used bytes beyond its limit', async () => {
    const checked = blobs(250); // two tiles of 100 bytes
    for (const n of [1, 2]) checked.remember(key(n), sha256Hex(tile(n)), tile(n));
    await checked.read(key(1), sha256Hex(tile(1))); // 1 is now more recent than 2
    checked.remember(key(3), sha256Hex(tile(3)), tile(3)); // 2 goes
    // Storage holds none of them: what is still remembered is served, the rest is not found.
    expect(await checked.read(key(1), sha256Hex(tile(1)))).toEqual(tile(1));
    expect(await checked.read(key(3), sha256Hex(tile(3)))).toEqual(tile(3));
    await expect(checked.read(key(2), sha256Hex(tile(2)))).rejects.toThrow(BlobNotFoundError);
  });

  it('does not keep a blob larger than its limit', async () => {
    const checked = blobs(50);
    checked.remember(key(1), sha256Hex(tile(1)), tile(1));
    await expect(checked.read(key(1), sha256Hex(tile(1)))).rejects.toThrow(BlobNotFoundError);
  });
});
