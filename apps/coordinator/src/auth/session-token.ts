import { createHmac, timingSafeEqual } from 'node:crypto';

// Node session tokens are stateless (HMAC over the claims) so any replica sharing SECRET can
// check them without a database round trip on every lease call.
export interface NodeClaims {
  nodeId: string;
  address: string;
  /** expiry, unix milliseconds */
  exp: number;
}

export function signSessionToken(claims: NodeClaims, secret: string): string {
  return signClaims('node-session', claims, secret);
}

export function verifySessionToken(
  token: string,
  secret: string,
  now = Date.now(),
): NodeClaims | null {
  return verifyClaims<NodeClaims>(
    'node-session',
    token,
    secret,
    now,
    (c) => typeof c.nodeId === 'string' && typeof c.address === 'string',
  );
}

/**
 * Node tokens that have verified, so that an agent's calls (two per lease cycle) skip the HMAC
 * and parsing after the first. Keyed by the whole token, so only a token that verified is ever
 * a hit; its expiry is still checked on every call. The oldest entry leaves when full.
 */
export class VerifiedNodeSessions {
  private readonly verified = new Map<string, Readonly<NodeClaims>>();

  constructor(
    private readonly secret: string,
    private readonly capacity = 10_000,
  ) {}

  get size(): number {
    return this.verified.size;
  }

  verify(token: string, now = Date.now()): Readonly<NodeClaims> | null {
    const known = this.verified.get(token);
    if (known) return known.exp > now ? known : null;
    const claims = verifySessionToken(token, this.secret, now);
    if (!claims) return null;
    if (this.verified.size >= this.capacity) {
      this.verified.delete(this.verified.keys().next().value as string);
    }
    this.verified.set(token, Object.freeze(claims));
    return claims;
  }
}

/**
 * `<base64url claims>.<HMAC>`: stateless signed claims with an expiry. The purpose is part of
 * the MAC, so a token made for one purpose (node session, browser session) is never the other.
 */
export function signClaims(purpose: string, claims: { exp: number }, secret: string): string {
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${body}.${mac(purpose, body, secret)}`;
}

/** The claims of a token signed for `purpose`, or null when forged, expired or malformed. */
export function verifyClaims<T extends { exp: number }>(
  purpose: string,
  token: string,
  secret: string,
  now: number,
  valid: (claims: T) => boolean,
): T | null {
  const [body, sig] = token.split('.');
  if (!body || !sig) return null;
  const expected = Buffer.from(mac(purpose, body, secret));
  const given = Buffer.from(sig);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  try {
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as T;
    if (typeof claims.exp !== 'number' || claims.exp <= now || !valid(claims)) return null;
    return claims;
  } catch {
    return null;
  }
}

function mac(purpose: string, body: string, secret: string): string {
  return createHmac('sha256', secret).update(`${purpose}:${body}`).digest('base64url');
}
