import { getBytes, hashMessage, hexlify, keccak256, Signature } from 'ethers';
import { ecdsaRecover, ecdsaSign } from 'secp256k1';

/**
 * Who signed an EIP-191 message, as ethers' verifyMessage answers it, with the public key
 * recovered by libsecp256k1 (the `secp256k1` package's native binding, about 75 us here) instead
 * of ethers' JavaScript curve code (3 to 4 ms of CPU per node login and per completion, a tenth
 * of the coordinator's whole cost of a lease cycle). Signature.from keeps ethers' checks of the
 * signature's form (length, canonical s, recovery bit). Signing is here too, for the simulated
 * agents of the tests and benchmarks, whose load would otherwise be mostly ethers' signing.
 */
export class MessageSigner {
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

  /** An EIP-191 signature of `message` by `privateKey`, as ethers' Wallet.signMessage makes it. */
  sign(privateKey: string, message: string): string {
    const { signature, recid } = ecdsaSign(getBytes(hashMessage(message)), getBytes(privateKey));
    return Signature.from({
      r: hexlify(signature.subarray(0, 32)),
      s: hexlify(signature.subarray(32)),
      v: 27 + recid,
    }).serialized;
  }
}
