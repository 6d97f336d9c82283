import { getBytes, hashMessage, hexlify, keccak256, Signature } from 'ethers';
import { ecdsaRecover, ecdsaSign } from 'secp256k1';

// EIP-191 signatures of the protocol's messages (node login, completions), made and checked with
// libsecp256k1 (the `secp256k1` package's native binding, about 75 us here) instead of ethers'
// JavaScript curve code (3 to 4 ms of CPU each). The answers are ethers' own: Signature.from
// keeps its checks of a signature's form (length, canonical s, recovery bit), and signing uses
// the same RFC 6979 nonces, so the bytes equal Wallet.signMessage's.

/** True when `signature` over `message` recovers to `address`; throws on a malformed one. */
export function eip191SignedBy(address: string, message: string, signature: string): boolean {
  const sig = Signature.from(signature);
  const digest = getBytes(hashMessage(message));
  const compact = getBytes(sig.r + sig.s.slice(2));
  let publicKey: Uint8Array;
  try {
    publicKey = ecdsaRecover(compact, sig.yParity, digest, false);
  } catch {
    return false; // no key recovers from this signature: nobody signed it
  }
  const signer = `0x${keccak256(publicKey.subarray(1)).slice(-40)}`;
  return signer === address.toLowerCase();
}

/** An EIP-191 signature of `message` by `privateKey`, as ethers' Wallet.signMessage makes it. */
export function eip191Sign(privateKey: string, message: string): string {
  const { signature, recid } = ecdsaSign(getBytes(hashMessage(message)), getBytes(privateKey));
  return Signature.from({
    r: hexlify(signature.subarray(0, 32)),
    s: hexlify(signature.subarray(32)),
    v: 27 + recid,
  }).serialized;
}
