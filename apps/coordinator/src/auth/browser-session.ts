import { createHmac, timingSafeEqual } from 'node:crypto';

// Browsers cannot send an Authorization header with EventSource, so the dashboard trades the
// API key for an HttpOnly cookie holding these claims, HMAC-signed with SECRET (any replica can
// check it). The key is still looked up on every request, so revoking it ends the session.
export interface BrowserClaims {
  apiKeyId: string;
  /** expiry, unix milliseconds */
  exp: number;
}

export const SESSION_COOKIE = 'tessera_session';

export function signBrowserSession(claims: BrowserClaims, secret: string): string {
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${body}.${mac(body, secret)}`;
}

export function verifyBrowserSession(
  token: string,
  secret: string,
  now = Date.now(),
): BrowserClaims | null {
  const [body, sig] = token.split('.');
  if (!body || !sig) return null;
  const expected = Buffer.from(mac(body, secret));
  const given = Buffer.from(sig);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  try {
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as BrowserClaims;
    if (typeof claims.exp !== 'number' || claims.exp <= now) return null;
    if (typeof claims.apiKeyId !== 'string') return null;
    return claims;
  } catch {
    return null;
  }
}

/** The value of one cookie from a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name)
      return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

function mac(body: string, secret: string): string {
  // A different purpose string than node sessions: one kind of token is never the other.
  return createHmac('sha256', secret).update(`browser-session:${body}`).digest('base64url');
}
