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

/**
 * The Set-Cookie value of the session cookie: HttpOnly, SameSite=Strict, for the whole site.
 * `maxAgeMs` 0 clears it; `secure` when the coordinator is served over https.
 */
export function sessionCookie(value: string, maxAgeMs: number, secure: boolean): string {
  const attributes = [
    `${SESSION_COOKIE}=${encodeURIComponent(value)}`,
    'Path=/',
    `Max-Age=${Math.floor(maxAgeMs / 1000)}`,
    ...(maxAgeMs > 0 ? [`Expires=${new Date(Date.now() + maxAgeMs).toUTCString()}`] : []),
    'HttpOnly',
    'SameSite=Strict',
    ...(secure ? ['Secure'] : []),
  ];
  return attributes.join('; ');
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
