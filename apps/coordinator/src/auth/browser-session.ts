import { signClaims, verifyClaims } from './session-token';

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
  return signClaims('browser-session', claims, secret);
}

export function verifyBrowserSession(
  token: string,
  secret: string,
  now = Date.now(),
): BrowserClaims | null {
  return verifyClaims<BrowserClaims>(
    'browser-session',
    token,
    secret,
    now,
    (c) => typeof c.apiKeyId === 'string',
  );
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
