import { BlobUrlError, BlobUrlSigner, signBlobUrlClaims } from './blob-url-signer';

const SECRET = 'test-secret-test-secret';
const KEY = 'results/job/shard/lease.png';
const NOW = Date.UTC(2030, 0, 1);

function parse(url: string) {
  const u = new URL(url);
  return {
    path: u.pathname,
    key: u.pathname.replace('/api/v1/blobs/', ''),
    query: Object.fromEntries(u.searchParams) as Record<string, string>,
  };
}

function reason(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof BlobUrlError) return err.reason;
    throw err;
  }
  return undefined;
}

describe('BlobUrlSigner', () => {
  const signer = new BlobUrlSigner(SECRET, 'http://127.0.0.1:8080/');
  const putUrl = signer.sign(
    'put',
    KEY,
    { ttlSeconds: 60, maxBytes: 1000, contentType: 'image/png' },
    NOW,
  );
  const put = parse(putUrl);

  it('builds a URL on the public base with op, exp, max, ct and sig', () => {
    expect(putUrl.startsWith(`http://127.0.0.1:8080/api/v1/blobs/${KEY}?`)).toBe(true);
    expect(put.query).toEqual({
      op: 'put',
      exp: String(NOW / 1000 + 60),
      max: '1000',
      ct: 'image/png',
      sig: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it('verifies a genuine URL and returns its claims', () => {
    expect(signer.verify('put', put.key, put.query, NOW)).toEqual({
      op: 'put',
      key: KEY,
      exp: NOW / 1000 + 60,
      max: 1000,
      ct: 'image/png',
    });
    const get = parse(signer.sign('get', KEY, { ttlSeconds: 60 }, NOW));
    expect(get.query.max).toBeUndefined();
    expect(signer.verify('get', get.key, get.query, NOW)).toMatchObject({ op: 'get', key: KEY });
  });

  it('is valid through its expiry second and expired after it', () => {
    const exp = NOW + 60_000;
    expect(() => signer.verify('put', put.key, put.query, exp + 999)).not.toThrow();
    expect(reason(() => signer.verify('put', put.key, put.query, exp + 1000))).toBe('expired');
  });

  it.each([
    ['another key', { key: 'results/job/shard/other.png' }, 'bad-signature'],
    ['a later exp', { exp: String(NOW / 1000 + 3600) }, 'bad-signature'],
    ['a larger max', { max: '1000000' }, 'bad-signature'],
    ['another content type', { ct: 'image/jpeg' }, 'bad-signature'],
    ['no content type', { ct: undefined }, 'bad-signature'],
    ['a flipped sig digit', { sig: 'x' }, 'bad-signature'],
    ['a short sig', { sig: 'abcd' }, 'malformed'],
    ['the op of a get URL', { op: 'get' }, 'wrong-operation'],
    ['no max', { max: undefined }, 'malformed'],
    ['a non-numeric exp', { exp: '1e12' }, 'malformed'],
    ['an invalid key', { key: 'results/../../etc/passwd' }, 'malformed'],
  ])('rejects a put URL with %s', (_why, change, expected) => {
    const query: Record<string, unknown> = { ...put.query };
    let key = put.key;
    for (const [name, value] of Object.entries(change)) {
      if (name === 'key') key = value!;
      else if (name === 'sig' && value === 'x') {
        query.sig = (put.query.sig[0] === '0' ? '1' : '0') + put.query.sig.slice(1);
      } else if (value === undefined) delete query[name];
      else query[name] = value;
    }
    expect(reason(() => signer.verify('put', key, query, NOW))).toBe(expected);
  });

  it('does not let a get URL be used for a put, or vice versa', () => {
    const get = parse(signer.sign('get', KEY, { ttlSeconds: 60 }, NOW));
    expect(reason(() => signer.verify('put', get.key, get.query, NOW))).toBe('wrong-operation');
    // Even a forged op parameter fails: op is part of the signed string.
    expect(
      reason(() => signer.verify('put', get.key, { ...get.query, op: 'put', max: '9' }, NOW)),
    ).toBe('bad-signature');
    expect(reason(() => signer.verify('get', put.key, put.query, NOW))).toBe('wrong-operation');
  });

  it('rejects URLs signed with another secret, and repeated parameters', () => {
    const other = new BlobUrlSigner('another-secret-value', 'http://127.0.0.1:8080');
    const forged = parse(other.sign('get', KEY, { ttlSeconds: 60 }, NOW));
    expect(reason(() => signer.verify('get', forged.key, forged.query, NOW))).toBe('bad-signature');
    expect(reason(() => signer.verify('get', KEY, { ...forged.query, exp: ['1', '2'] }, NOW))).toBe(
      'malformed',
    );
  });

  it('signs the canonical claims with HMAC-SHA256', () => {
    expect(put.query.sig).toBe(
      signBlobUrlClaims(SECRET, {
        op: 'put',
        key: KEY,
        exp: NOW / 1000 + 60,
        max: 1000,
        ct: 'image/png',
      }),
    );
  });

  it('refuses to sign bad requests', () => {
    expect(() => signer.sign('get', 'Bad/Key', { ttlSeconds: 60 })).toThrow(/invalid blob key/);
    expect(() => signer.sign('get', KEY, { ttlSeconds: 0 })).toThrow(RangeError);
    expect(() => signer.sign('get', KEY, { ttlSeconds: 8 * 24 * 3600 })).toThrow(RangeError);
    expect(() => signer.sign('put', KEY, { ttlSeconds: 60 })).toThrow(/maxBytes/);
    expect(() =>
      signer.sign('put', KEY, { ttlSeconds: 60, maxBytes: 1, contentType: 'png' }),
    ).toThrow(/content type/);
  });
});
