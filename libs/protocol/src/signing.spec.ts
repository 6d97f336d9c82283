import { hashMessage, Signature, verifyMessage, Wallet } from 'ethers';
import { eip191Digest, eip191Sign, eip191SignedBy } from './signing';

describe('EIP-191 signing', () => {
  const alice = Wallet.createRandom();
  const bob = Wallet.createRandom();

  it("digests a message as ethers' hashMessage does, counting UTF-8 bytes in the prefix", () => {
    for (const message of ['', 'tessera-result:1', 'ünïcödé ✓ 渲染', 'x'.repeat(1000)]) {
      expect(`0x${eip191Digest(message).toString('hex')}`).toBe(hashMessage(message));
    }
  });

  it("agrees with verifyMessage on a node's signatures", async () => {
    for (let i = 0; i < 12; i++) {
      const message = `tessera-result:${i}`;
      const signature = await alice.signMessage(message);
      expect(verifyMessage(message, signature)).toBe(alice.address);
      expect(eip191SignedBy(alice.address, message, signature)).toBe(true);
      expect(eip191SignedBy(alice.address.toLowerCase(), message, signature)).toBe(true);
    }
  });

  it('refuses another message, another signer and a flipped recovery bit', async () => {
    const signature = await alice.signMessage('one');
    expect(eip191SignedBy(alice.address, 'one', signature)).toBe(true);
    expect(eip191SignedBy(alice.address, 'two', signature)).toBe(false);
    expect(eip191SignedBy(alice.address, 'one', await bob.signMessage('one'))).toBe(false);
    expect(eip191SignedBy(bob.address, 'one', signature)).toBe(false);
    // same r and s, the other y parity: recovers to some other key, so it is not alice's
    const sig = Signature.from(signature);
    const flipped = Signature.from({ r: sig.r, s: sig.s, v: sig.v === 27 ? 28 : 27 }).serialized;
    expect(verifyMessage('one', flipped)).not.toBe(alice.address);
    expect(eip191SignedBy(alice.address, 'one', flipped)).toBe(false);
  });

  it('throws on a malformed signature and refuses one no key recovers from', async () => {
    expect(() => eip191SignedBy(alice.address, 'one', '0x1234')).toThrow();
    // r = 5 names a point whose x is 5; there is none on secp256k1, so nothing recovers
    const r = '0x' + '0'.repeat(63) + '5';
    const s = '0x' + '0'.repeat(63) + '1';
    const unrecoverable = Signature.from({ r, s, v: 27 }).serialized;
    expect(eip191SignedBy(alice.address, 'one', unrecoverable)).toBe(false);
  });

  it("signs exactly as ethers' Wallet.signMessage does", async () => {
    for (let i = 0; i < 12; i++) {
      const message = `tessera-result:${i}:${'x'.repeat(i * 7)}`;
      const signature = eip191Sign(alice.privateKey, message);
      // RFC 6979 nonces on both sides: the very same bytes
      expect(signature).toBe(await alice.signMessage(message));
      expect(verifyMessage(message, signature)).toBe(alice.address);
    }
  });
});
