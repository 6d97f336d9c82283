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
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${body}.${mac(body, secret)}`;
}

export function verifySessionToken(
  token: string,
  secret: string,
  now = Date.now(),
): NodeClaims | null {
  const [body, sig] = token.split('.');
  if (!body || !sig) return null;
  const expected = Buffer.from(mac(body, secret));
  const given = Buffer.from(sig);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  try {
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as NodeClaims;
    if (typeof claims.exp !== 'number' || claims.exp <= now) return null;
    if (typeof claims.nodeId !== 'string' || typeof claims.address !== 'string') return null;
    return claims;
  } catch {
    return null;
  }
}

function mac(body: string, secret: string): string {
  return createHmac('sha256', secret).update(`node-session:${body}`).digest('base64url');
}
