import { signSessionToken, verifySessionToken } from './session-token';

describe('node session tokens', () => {
  const claims = { nodeId: 'n1', address: '0xabc', exp: Date.now() + 60_000 };
  const secret = 'a-test-secret-of-enough-length';

  it('round-trips valid claims', () => {
    expect(verifySessionToken(signSessionToken(claims, secret), secret)).toEqual(claims);
  });

  it('rejects a token signed with another secret', () => {
    expect(
      verifySessionToken(signSessionToken(claims, secret), 'another-secret-xxxxxxx'),
    ).toBeNull();
  });

  it('rejects tampered claims', () => {
    const [, sig] = signSessionToken(claims, secret).split('.');
    const forged = Buffer.from(JSON.stringify({ ...claims, nodeId: 'n2' })).toString('base64url');
    expect(verifySessionToken(`${forged}.${sig}`, secret)).toBeNull();
  });

  it('rejects expired tokens and garbage', () => {
    const old = signSessionToken({ ...claims, exp: Date.now() - 1 }, secret);
    expect(verifySessionToken(old, secret)).toBeNull();
    expect(verifySessionToken('nonsense', secret)).toBeNull();
    expect(verifySessionToken('', secret)).toBeNull();
  });
});
