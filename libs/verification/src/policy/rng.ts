// Random sources for the sampling policy. Every decision that a node must not predict (which tile
// is checked, where the crop falls, which lease is a ringer) takes an injected `Rng`, so tests and
// simulations are deterministic while the coordinator uses `cryptoRng()`.
import { randomFillSync } from 'node:crypto';

/** A source of uniform numbers in [0, 1). */
export type Rng = () => number;

const TWO_POW_32 = 0x1_0000_0000;
const TWO_POW_53 = 2 ** 53;

/**
 * Cryptographically secure uniform numbers in [0, 1) with 53 random bits each. Use this in the
 * coordinator: a node that could predict the generator could predict which of its tiles are checked.
 */
export function cryptoRng(): Rng {
  const buffer = new Uint32Array(512);
  let next = buffer.length;
  return () => {
    if (next + 2 > buffer.length) {
      randomFillSync(buffer);
      next = 0;
    }
    const high = buffer[next++] >>> 5; // 27 bits
    const low = buffer[next++] >>> 6; // 26 bits
    return (high * 2 ** 26 + low) / TWO_POW_53;
  };
}

/**
 * A small seeded generator (sfc32, seeded through splitmix32) for tests, simulations and
 * benchmarks. Predictable by design: never use it to choose real checks.
 */
export function seededRng(seed: number): Rng {
  let s = seed >>> 0;
  const splitmix = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  const next = () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  for (let i = 0; i < 12; i++) next();
  return () => next() / TWO_POW_32;
}

/** A uniform integer in [min, max] (both inclusive) drawn from `rng`. */
export function randomInt(rng: Rng, min: number, max: number): number {
  if (!Number.isInteger(min) || !Number.isInteger(max) || max < min) {
    throw new RangeError(`randomInt needs integers min <= max, got ${min}..${max}`);
  }
  const u = rng();
  if (!(u >= 0 && u < 1)) throw new RangeError(`rng returned ${u}, outside [0, 1)`);
  return min + Math.floor(u * (max - min + 1));
}

/** True with probability `p` (clamped to [0, 1]). Draws exactly one number from `rng`. */
export function bernoulli(rng: Rng, p: number): boolean {
  const u = rng();
  if (!(u >= 0 && u < 1)) throw new RangeError(`rng returned ${u}, outside [0, 1)`);
  return u < p;
}
