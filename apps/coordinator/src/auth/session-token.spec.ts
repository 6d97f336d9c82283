import { signSessionToken, VerifiedNodeSessions, verifySessionToken } from './session-token';

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

describe('VerifiedNodeSessions', () => {
  const secret = 'a-test-secret-of-enough-length';
  const now = 1_800_000_000_000;
  const token = (nodeId: string, exp = now + 60_000) =>
    signSessionToken({ nodeId, address: '0xabc', exp }, secret);

  it('answers a known token as the first verification did, until it expires', () => {
    const sessions = new VerifiedNodeSessions(secret);
    const t = token('n1');
    expect(sessions.verify(t, now)).toEqual({ nodeId: 'n1', address: '0xabc', exp: now + 60_000 });
    expect(sessions.verify(t, now + 1000)?.nodeId).toBe('n1');
    expect(sessions.verify(t, now + 60_000)).toBeNull();
  });

  it('never answers a token that differs from a verified one', () => {
    const sessions = new VerifiedNodeSessions(secret);
    const t = token('n1');
    expect(sessions.verify(t, now)).not.toBeNull();
    const [body, sig] = t.split('.');
    const forged = Buffer.from(
      JSON.stringify({ nodeId: 'n2', address: '0xabc', exp: now + 60_000 }),
    );
    expect(sessions.verify(`${forged.toString('base64url')}.${sig}`, now)).toBeNull();
    expect(sessions.verify(`${body}.${sig.slice(0, -1)}x`, now)).toBeNull();
    expect(sessions.verify(token('n1'), now)).not.toBeNull(); // same claims sign the same token
    expect(new VerifiedNodeSessions('another-secret-xxxxxxxxxx').verify(t, now)).toBeNull();
  });

  it('keeps at most its capacity, dropping the oldest; a dropped token verifies again', () => {
    const sessions = new VerifiedNodeSessions(secret, 2);
    const [a, b, c] = ['a', 'b', 'c'].map((id) => token(id));
    for (const t of [a, b, c]) expect(sessions.verify(t, now)).not.toBeNull();
    expect(sessions.size).toBe(2);
    expect(sessions.verify(a, now)?.nodeId).toBe('a');
    expect(sessions.size).toBe(2);
  });
});
