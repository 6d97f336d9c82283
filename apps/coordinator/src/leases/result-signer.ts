import { invert, mod } from '@noble/curves/abstract/modular';
import { secp256k1 } from '@noble/curves/secp256k1';
import { computeAddress, hashMessage, Signature, SigningKey } from 'ethers';

type Point = InstanceType<typeof secp256k1.ProjectivePoint>;

const G = secp256k1.ProjectivePoint.BASE;
const N = secp256k1.CURVE.n;
/** wNAF window of a cached node key: 4 bits is ~75 kB of precomputed points per node. */
const WINDOW = 4;
/**
 * Precomputing a key costs ~7 ms CPU, the saving of ~3 fast checks: only for nodes that keep
 * sending results (in a short benchmark, 200 nodes precomputing at once cost more than it saved).
 */
const PRECOMPUTE_AFTER = 8;
const CACHE_LIMIT = 512;

interface KnownKey {
  point: Point;
  recoveries: number;
}

/**
 * Who signed an EIP-191 message, the way ethers' verifyMessage answers it, but cheaper for a
 * node seen before. verifyMessage recovers the public key from scratch (a double scalar
 * multiplication by an unknown point) for every completion. Here the first signatures of an
 * address are recovered that way; after that its public key is known, so the check is
 * R = u1*G + u2*P with P's multiples precomputed, and R must be exactly the point the signature
 * names (x = r, same y parity), which holds if and only if recovery would have returned P.
 */
export class ResultSigner {
  private readonly keys = new Map<string, KnownKey>();

  /** True when `signature` over `message` recovers to `address`; throws on a malformed one. */
  signedBy(address: string, message: string, signature: string): boolean {
    const sig = Signature.from(signature);
    const digest = hashMessage(message);
    const owner = address.toLowerCase();
    const known = this.keys.get(owner);
    if (known && known.recoveries >= PRECOMPUTE_AFTER) {
      const verdict = matches(known.point, BigInt(digest), sig);
      if (verdict !== null) return verdict;
    }
    const publicKey = SigningKey.recoverPublicKey(digest, sig);
    if (computeAddress(publicKey).toLowerCase() !== owner) return false;
    this.remember(owner, known, publicKey);
    return true;
  }

  private remember(owner: string, known: KnownKey | undefined, publicKey: string): void {
    if (known) {
      if (++known.recoveries === PRECOMPUTE_AFTER) known.point._setWindowSize(WINDOW);
      return;
    }
    if (this.keys.size >= CACHE_LIMIT) {
      const [oldest, evicted] = this.keys.entries().next().value!;
      evicted.point._setWindowSize(1); // drops its precomputed multiples
      this.keys.delete(oldest);
    }
    const point = secp256k1.ProjectivePoint.fromHex(publicKey.slice(2));
    this.keys.set(owner, { point, recoveries: 1 });
  }
}

/** Whether `sig` over `e` was made by the key of `p`; null for a case left to full recovery. */
function matches(p: Point, e: bigint, sig: Signature): boolean | null {
  const r = BigInt(sig.r);
  const s = BigInt(sig.s);
  if (r <= 0n || r >= N || s <= 0n || s >= N) return null;
  const w = invert(s, N);
  const u1 = mod(e * w, N);
  const u2 = mod(r * w, N);
  if (u1 === 0n) return null; // multiply() takes 0 < k < n only
  const point = G.multiply(u1).add(p.multiply(u2));
  if (point.equals(secp256k1.ProjectivePoint.ZERO)) return false;
  const { x, y } = point.toAffine();
  return x === r && Number(y & 1n) === sig.yParity;
}
