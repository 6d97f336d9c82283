import { createHmac, timingSafeEqual } from 'node:crypto';
import { assertValidKey, isValidKey } from './blob-storage';

// The fs driver's presigned URLs: the coordinator signs them and verifies them itself, so a
// URL grants exactly one operation on one key until it expires (like an S3 presigned URL).

/** Route prefix of BlobsController; presigned URLs point here. */
export const BLOBS_ROUTE = 'api/v1/blobs';

export type BlobOp = 'get' | 'put';

export interface BlobUrlClaims {
  op: BlobOp;
  key: string;
  /** expiry, unix seconds */
  exp: number;
  /** byte limit of a put */
  max?: number;
  /** required Content-Type of a put */
  ct?: string;
}

export type BlobUrlErrorReason = 'malformed' | 'wrong-operation' | 'bad-signature' | 'expired';

export class BlobUrlError extends Error {
  constructor(
    readonly reason: BlobUrlErrorReason,
    message: string,
  ) {
    super(message);
    this.name = 'BlobUrlError';
  }
}

/** Like S3's limit for presigned URLs. */
export const MAX_PRESIGN_TTL_S = 7 * 24 * 3600;
// A bare type/subtype: parameters would make the string ambiguous to compare.
const CONTENT_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/;
const UINT = /^(0|[1-9][0-9]{0,15})$/;
const SIG = /^[0-9a-f]{64}$/;

/** Version-tagged and newline-separated; every field but the last is from a fixed alphabet. */
export function canonicalBlobUrlString(c: BlobUrlClaims): string {
  return ['tessera-blob-v1', c.op, c.key, c.exp, c.max ?? '', c.ct ?? ''].join('\n');
}

export function signBlobUrlClaims(secret: string, claims: BlobUrlClaims): string {
  return createHmac('sha256', secret).update(canonicalBlobUrlString(claims)).digest('hex');
}

/** Media type of a Content-Type header, without parameters, lower case. */
export function mediaType(header: string | undefined): string | undefined {
  const type = header?.split(';')[0].trim().toLowerCase();
  return type ? type : undefined;
}

export class BlobUrlSigner {
  private readonly base: string;

  constructor(
    private readonly secret: string,
    publicUrl: string,
  ) {
    this.base = `${publicUrl.replace(/\/+$/, '')}/${BLOBS_ROUTE}/`;
  }

  sign(
    op: BlobOp,
    key: string,
    opts: { ttlSeconds: number; maxBytes?: number; contentType?: string },
    nowMs = Date.now(),
  ): string {
    assertValidKey(key);
    const { ttlSeconds, maxBytes } = opts;
    if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0 || ttlSeconds > MAX_PRESIGN_TTL_S) {
      throw new RangeError(`ttlSeconds must be an integer in 1..${MAX_PRESIGN_TTL_S}`);
    }
    if (op === 'put' && (!Number.isSafeInteger(maxBytes) || maxBytes! < 0)) {
      throw new RangeError('a put URL needs maxBytes, a non-negative integer');
    }
    const ct = op === 'put' ? mediaType(opts.contentType) : undefined;
    if (ct !== undefined && !CONTENT_TYPE.test(ct)) {
      throw new RangeError(`unsupported content type ${JSON.stringify(opts.contentType)}`);
    }
    const claims: BlobUrlClaims = {
      op,
      key,
      exp: Math.floor(nowMs / 1000) + ttlSeconds,
      ...(op === 'put' ? { max: maxBytes } : {}),
      ...(ct ? { ct } : {}),
    };
    const query = new URLSearchParams({ op, exp: String(claims.exp) });
    if (claims.max !== undefined) query.set('max', String(claims.max));
    if (claims.ct) query.set('ct', claims.ct);
    query.set('sig', signBlobUrlClaims(this.secret, claims));
    return `${this.base}${key}?${query}`;
  }

  /**
   * Checks a request for `key` (from the path) made with `op` (from the HTTP method) against its
   * query string. Returns the signed claims, or throws BlobUrlError.
   */
  verify(
    op: BlobOp,
    key: string,
    query: Record<string, unknown>,
    nowMs = Date.now(),
  ): BlobUrlClaims {
    const str = (name: string): string | undefined => {
      const v = query[name];
      if (v === undefined) return undefined;
      if (typeof v !== 'string') throw new BlobUrlError('malformed', `repeated parameter ${name}`);
      return v;
    };
    const [qOp, qExp, qMax, qCt, qSig] = ['op', 'exp', 'max', 'ct', 'sig'].map(str);
    if (!qOp || !qExp || !qSig) {
      throw new BlobUrlError('malformed', 'not a presigned URL: op, exp and sig are required');
    }
    if (qOp !== op) {
      throw new BlobUrlError('wrong-operation', `this URL is signed for ${qOp}, not ${op}`);
    }
    if (!isValidKey(key)) throw new BlobUrlError('malformed', 'invalid blob key');
    if (!UINT.test(qExp)) throw new BlobUrlError('malformed', 'exp must be unix seconds');
    if (qMax !== undefined && !UINT.test(qMax)) throw new BlobUrlError('malformed', 'bad max');
    if (op === 'put' && qMax === undefined) throw new BlobUrlError('malformed', 'put needs max');
    if (qCt !== undefined && !CONTENT_TYPE.test(qCt)) throw new BlobUrlError('malformed', 'bad ct');
    if (!SIG.test(qSig)) throw new BlobUrlError('malformed', 'sig must be 64 hex digits');

    const claims: BlobUrlClaims = {
      op,
      key,
      exp: Number(qExp),
      ...(qMax !== undefined ? { max: Number(qMax) } : {}),
      ...(qCt !== undefined ? { ct: qCt } : {}),
    };
    const expected = Buffer.from(signBlobUrlClaims(this.secret, claims), 'hex');
    if (!timingSafeEqual(expected, Buffer.from(qSig, 'hex'))) {
      throw new BlobUrlError('bad-signature', 'signature does not match this key and operation');
    }
    // Checked after the signature so only genuine URLs learn that they have expired.
    if (Math.floor(nowMs / 1000) > claims.exp) {
      throw new BlobUrlError(
        'expired',
        `URL expired at ${new Date(claims.exp * 1000).toISOString()}`,
      );
    }
    return claims;
  }
}
