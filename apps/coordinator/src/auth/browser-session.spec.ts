import {
  cookieValue,
  sessionCookie,
  signBrowserSession,
  verifyBrowserSession,
} from './browser-session';
import { signSessionToken } from './session-token';

describe('browser sessions', () => {
  const secret = 'a-test-secret-of-enough-length';
  const claims = { apiKeyId: 'k1', exp: Date.now() + 60_000 };

  it('round-trips, and refuses other secrets, tampering and expiry', () => {
    const token = signBrowserSession(claims, secret);
    expect(verifyBrowserSession(token, secret)).toEqual(claims);
    expect(verifyBrowserSession(token, 'another-secret-xxxxxxxxx')).toBeNull();
    const forged = Buffer.from(JSON.stringify({ ...claims, apiKeyId: 'k2' })).toString('base64url');
    expect(verifyBrowserSession(`${forged}.${token.split('.')[1]}`, secret)).toBeNull();
    expect(
      verifyBrowserSession(signBrowserSession({ ...claims, exp: 1 }, secret), secret),
    ).toBeNull();
  });

  it('is not interchangeable with a node session token', () => {
    const node = signSessionToken({ nodeId: 'k1', address: '0x1', exp: claims.exp }, secret);
    expect(verifyBrowserSession(node, secret)).toBeNull();
  });

  it('reads one cookie among several', () => {
    expect(cookieValue('a=1; tessera_session=x.y; b=2', 'tessera_session')).toBe('x.y');
    expect(cookieValue('a=1', 'tessera_session')).toBeUndefined();
    expect(cookieValue(undefined, 'tessera_session')).toBeUndefined();
  });

  it('sets an HttpOnly, SameSite=Strict cookie that the Cookie header gives back', () => {
    const token = signBrowserSession(claims, secret);
    const set = sessionCookie(token, 3_600_000, false);
    expect(set.split('; ')).toEqual(
      expect.arrayContaining(['Path=/', 'Max-Age=3600', 'HttpOnly', 'SameSite=Strict']),
    );
    expect(set).not.toContain('Secure');
    expect(sessionCookie(token, 1000, true).split('; ')).toContain('Secure');
    // what a browser sends back: the name=value pair before the first attribute
    expect(cookieValue(set.split('; ')[0], 'tessera_session')).toBe(token);
    const cleared = sessionCookie('', 0, false);
    expect(cleared).toMatch(/^tessera_session=; Path=\/; Max-Age=0; HttpOnly/);
  });
});
