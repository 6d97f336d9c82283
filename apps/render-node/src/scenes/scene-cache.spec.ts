import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { SceneCache } from './scene-cache';

const root = mkdtempSync(join(tmpdir(), 'scene-cache-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const bytes = (n: number, seed: number) =>
  Buffer.from(Array.from({ length: n }, (_, i) => (i * seed) & 255));

/** A server that honours ranges, like the coordinator's fs blob URLs. */
function server(body: Buffer, calls: number[] = []) {
  return async (offset: number) => {
    calls.push(offset);
    return { stream: Readable.from([body.subarray(offset)]), offset, total: body.length };
  };
}

describe('SceneCache', () => {
  it('downloads once, verifies the hash and serves later calls from disk', async () => {
    const cache = new SceneCache(join(root, 'a'), { maxBytes: 1e9 });
    const body = bytes(5000, 7);
    const calls: number[] = [];
    const path = await cache.get(sha(body), server(body, calls));
    expect(readFileSync(path).equals(body)).toBe(true);
    await cache.get(sha(body), server(body, calls));
    expect(calls).toEqual([0]);
  });

  it('refuses a download whose bytes do not match and keeps nothing', async () => {
    const cache = new SceneCache(join(root, 'b'), { maxBytes: 1e9 });
    const body = bytes(100, 3);
    await expect(cache.get(sha(bytes(100, 5)), server(body))).rejects.toThrow('does not match');
    await expect(cache.get(sha(body), server(body))).resolves.toContain(sha(body));
  });

  it('resumes a broken download from its partial file with a range request', async () => {
    const dir = join(root, 'c');
    const cache = new SceneCache(dir, { maxBytes: 1e9 });
    const body = bytes(10_000, 11);
    const h = sha(body);
    // the first attempt breaks after 4000 bytes
    const broken = async () => ({
      stream: Readable.from(
        (async function* () {
          yield body.subarray(0, 4000);
          await new Promise((r) => setTimeout(r, 20));
          throw new Error('connection reset');
        })(),
      ),
      offset: 0,
    });
    await expect(cache.get(h, broken)).rejects.toThrow('connection reset');
    const calls: number[] = [];
    const path = await cache.get(h, server(body, calls));
    expect(calls).toEqual([4000]);
    expect(readFileSync(path).equals(body)).toBe(true);
  });

  it('starts over when the server ignores the range', async () => {
    const dir = join(root, 'd');
    const body = bytes(3000, 13);
    const h = sha(body);
    writeFileSync(join(dir + '-x'), ''); // unrelated file elsewhere
    const cache = new SceneCache(dir, { maxBytes: 1e9 });
    await expect(
      cache.get(h, async () => ({
        stream: Readable.from([Buffer.from('garbage-prefix')]),
        offset: 0,
      })),
    ).rejects.toThrow('does not match');
    const whole = async () => ({ stream: Readable.from([body]), offset: 0 });
    expect(readFileSync(await cache.get(h, whole)).equals(body)).toBe(true);
  });

  it('evicts the least recently used scenes beyond its cap, never one in use', async () => {
    const dir = join(root, 'e');
    const cache = new SceneCache(dir, { maxBytes: 2500 });
    const [a, b, c] = [bytes(1000, 1), bytes(1000, 2), bytes(1000, 3)];
    await cache.get(sha(a), server(a));
    await cache.get(sha(b), server(b));
    const old = new Date(Date.now() - 60_000);
    utimesSync(cache.pathOf(sha(b)), old, old); // b is older than a
    utimesSync(cache.pathOf(sha(a)), new Date(), new Date());
    await cache.get(sha(c), server(c), [sha(b)]); // b is in use by a worker
    const kept = [a, b, c].map((x) => {
      try {
        readFileSync(cache.pathOf(sha(x)));
        return true;
      } catch {
        return false;
      }
    });
    expect(kept).toEqual([false, true, true]);
  });
});
