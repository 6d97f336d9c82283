import { getBytes, hashMessage, keccak256, Signature } from 'ethers';
import { ecdsaRecover } from 'secp256k1';

/**
 * Who signed an EIP-191 message, as ethers' verifyMessage answers it, with the public key
 * recovered by libsecp256k1 (the `secp256k1` package's native binding, about 75 us here) instead
 * of ethers' JavaScript curve code (3 to 4 ms of CPU per completion, a tenth of the
 * coordinator's whole cost of a lease cycle). Signature.from keeps ethers' checks of the
 * signature's form (length, canonical s, recovery bit).
 */
export class ResultSigner {
  /** True when `signature` over `message` recovers to `address`; throws on a malformed one. */
  signedBy(address: string, message: string, signature: string): boolean {
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
}
