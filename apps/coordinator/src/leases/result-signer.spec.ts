import { Signature, verifyMessage, Wallet } from 'ethers';
import { ResultSigner } from './result-signer';

describe('ResultSigner', () => {
  const alice = Wallet.createRandom();
  const bob = Wallet.createRandom();

  it('agrees with verifyMessage on first and later signatures of a node', async () => {
    const signer = new ResultSigner();
    for (let i = 0; i < 12; i++) {
      const message = `tessera-result:${i}`;
      const signature = await alice.signMessage(message);
      expect(verifyMessage(message, signature)).toBe(alice.address);
      expect(signer.signedBy(alice.address, message, signature)).toBe(true);
      expect(signer.signedBy(alice.address.toLowerCase(), message, signature)).toBe(true);
    }
  });

  it('refuses another message, another signer and a flipped recovery bit once the key is cached', async () => {
    const signer = new ResultSigner();
    const signature = await alice.signMessage('one');
    // a few accepted results: alice's key is known and precomputed, the fast check takes over
    for (const m of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']) {
      expect(signer.signedBy(alice.address, m, await alice.signMessage(m))).toBe(true);
    }
    expect(signer.signedBy(alice.address, 'one', signature)).toBe(true);
    expect(signer.signedBy(alice.address, 'two', signature)).toBe(false);
    expect(signer.signedBy(alice.address, 'one', await bob.signMessage('one'))).toBe(false);
    expect(signer.signedBy(bob.address, 'one', signature)).toBe(false);
    // same r and s, the other y parity: recovers to some other key, so it is not alice's
    const sig = Signature.from(signature);
    const flipped = Signature.from({ r: sig.r, s: sig.s, v: sig.v === 27 ? 28 : 27 }).serialized;
    expect(verifyMessage('one', flipped)).not.toBe(alice.address);
    expect(signer.signedBy(alice.address, 'one', flipped)).toBe(false);
  });

  it('throws on a malformed signature, cached key or not', async () => {
    const signer = new ResultSigner();
    expect(() => signer.signedBy(alice.address, 'one', '0x1234')).toThrow();
    await alice.signMessage('one').then((s) => signer.signedBy(alice.address, 'one', s));
    expect(() => signer.signedBy(alice.address, 'one', '0x1234')).toThrow();
  });
});
