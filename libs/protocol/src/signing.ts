import { getBytes, Signature } from 'ethers';
import createKeccakHash from 'keccak';
import { ecdsaRecover, ecdsaSign } from 'secp256k1';

// EIP-191 signatures of the protocol's messages (node login, completions), made and checked with
// native code: libsecp256k1 (the `secp256k1` package, about 60 us here, against 3 to 4 ms for
// ethers' JavaScript curve code) and the `keccak` package's C Keccak (a message digest in 8 us,
// against 35 for ethers' JavaScript one). Every check and every completion pays both, on the
// coordinator and on the agent. The answers are ethers' own: Signature.from keeps its checks of
// a signature's form (length, canonical s, recovery bit), and signing uses the same RFC 6979
// nonces, so the bytes equal Wallet.signMessage's.

function keccak256(data: Uint8Array): Buffer {
  return createKeccakHash('keccak256')
    .update(Buffer.from(data.buffer, data.byteOffset, data.byteLength))
    .digest();
}

/** What EIP-191 signs for a text message: as ethers' hashMessage, the prefix counts UTF-8 bytes. */
export function eip191Digest(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  const prefix = Buffer.from(`\x19Ethereum Signed Message:\n${body.length}`, 'utf8');
  return keccak256(Buffer.concat([prefix, body]));
}

/** True when `signature` over `message` recovers to `address`; throws on a malformed one. */
export function eip191SignedBy(address: string, message: string, signature: string): boolean {
  const sig = Signature.from(signature);
  const compact = Buffer.from(sig.r.slice(2) + sig.s.slice(2), 'hex');
  let publicKey: Uint8Array;
  try {
    publicKey = ecdsaRecover(compact, sig.yParity, eip191Digest(message), false);
  } catch {
    return false; // no key recovers from this signature: nobody signed it
  }
  const signer = `0x${keccak256(publicKey.subarray(1)).subarray(12).toString('hex')}`;
  return signer === address.toLowerCase();
}

/** An EIP-191 signature of `message` by `privateKey`, as ethers' Wallet.signMessage makes it. */
export function eip191Sign(privateKey: string, message: string): string {
  const { signature, recid } = ecdsaSign(eip191Digest(message), getBytes(privateKey));
  return Signature.from({
    r: `0x${Buffer.from(signature.subarray(0, 32)).toString('hex')}`,
    s: `0x${Buffer.from(signature.subarray(32)).toString('hex')}`,
    v: 27 + recid,
  }).serialized;
}
