import { BlobCache } from './blob-cache';

describe('BlobCache', () => {
  const entry = (n: number, size = 100) => ({ bytes: Buffer.alloc(size, n), n });

  it('keeps entries up to its limit, the least recently used out first', () => {
    const cache = new BlobCache<ReturnType<typeof entry>>(250); // two of 100 bytes
    cache.set('a', entry(1));
    cache.set('b', entry(2));
    expect(cache.get('a')?.n).toBe(1); // a is now more recent than b
    cache.set('c', entry(3));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')?.n).toBe(1);
    expect(cache.get('c')?.n).toBe(3);
  });

  it('replaces an entry under the same key and counts its bytes once', () => {
    const cache = new BlobCache<ReturnType<typeof entry>>(250);
    cache.set('a', entry(1));
    cache.set('a', entry(2));
    cache.set('b', entry(3));
    expect(cache.get('a')?.n).toBe(2);
    expect(cache.get('b')?.n).toBe(3);
  });

  it('hands an entry over once with take, and frees its bytes', () => {
    const cache = new BlobCache<ReturnType<typeof entry>>(200);
    cache.set('a', entry(1));
    cache.set('b', entry(2));
    expect(cache.take('a')?.n).toBe(1);
    expect(cache.take('a')).toBeUndefined();
    cache.set('c', entry(3)); // fits beside b now that a is gone
    expect(cache.get('b')?.n).toBe(2);
  });

  it('keeps nothing larger than its limit, and nothing at all with limit 0', () => {
    const small = new BlobCache<ReturnType<typeof entry>>(50);
    small.set('a', entry(1));
    expect(small.get('a')).toBeUndefined();
    const none = new BlobCache<ReturnType<typeof entry>>(0);
    none.set('b', entry(2));
    expect(none.get('b')).toBeUndefined();
  });
});
