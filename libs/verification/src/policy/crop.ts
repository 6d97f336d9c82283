// Where a secret crop falls, and the chance that it lands on faked pixels.
//
// Placement, per axis: the interior has L pixels and the crop C. A start v is drawn uniformly
// from the L + C - 1 positions at which a C-pixel window still touches the interior, then clamped
// into it. Clamping moves only windows that hang over an edge, and the clamped crop contains
// every interior pixel the unclamped window had, so a faked run of F pixels *anywhere* is hit
// with probability at least (F + C - 1) / (L + C - 1), exactly so away from the edges. A plain
// uniform start would hit a faked corner pixel only 1 / (L - C + 1) of the time; this rule gives
// every pixel at least C / (L + C - 1): about 1/3 per axis, 1/9 per crop, for a crop of half
// the interior's side.
import type { PixelRegion } from '@tessera/protocol';
import { randomInt, Rng } from './rng';

export interface CropShape {
  /** crop area as a fraction of the tile interior (each side is sqrt of it) */
  cropFraction: number;
  /** shortest crop side in px, so tiny interiors still get a meaningful crop */
  minCropSide: number;
}

export interface PixelSize {
  width: number;
  height: number;
}

function side(length: number, fraction: number, minSide: number): number {
  return Math.min(length, Math.max(Math.min(minSide, length), Math.round(length * fraction)));
}

/** The crop's size in px for an interior: sqrt(cropFraction) of each side, at least minCropSide. */
export function cropSize(interior: PixelSize, shape: CropShape): PixelSize {
  const s = Math.sqrt(shape.cropFraction);
  return {
    width: side(interior.width, s, shape.minCropSide),
    height: side(interior.height, s, shape.minCropSide),
  };
}

/** The clamped start of a `size`-px crop in the `length`-px span starting at `lo`. */
export function clampCropStart(v: number, lo: number, length: number, size: number): number {
  return Math.min(Math.max(v, lo), lo + length - size);
}

/** Draws a crop start on one axis (one rng draw). */
export function placeCropAxis(rng: Rng, lo: number, length: number, size: number): number {
  if (!(size >= 1 && size <= length)) {
    throw new RangeError(`crop of ${size}px does not fit ${length}px`);
  }
  return clampCropStart(randomInt(rng, lo - size + 1, lo + length - 1), lo, length, size);
}

/**
 * Exact probability, on one axis, that the crop overlaps the faked run [fakeStart, fakeStart +
 * fakeLength) (coordinates relative to the span's start). Counts the equally likely draws.
 */
export function axisHitProbability(
  length: number,
  size: number,
  fakeStart: number,
  fakeLength: number,
): number {
  if (!(fakeLength >= 1 && fakeStart >= 0 && fakeStart + fakeLength <= length)) {
    throw new RangeError('the faked run must lie inside the span');
  }
  const draws = length + size - 1;
  let hits = 0;
  for (let v = -size + 1; v <= length - 1; v++) {
    const start = clampCropStart(v, 0, length, size);
    if (start < fakeStart + fakeLength && fakeStart < start + size) hits++;
  }
  return hits / draws;
}

/** The position-free bound on one axis: (F + C - 1) / (L + C - 1), at most 1. */
export function axisHitLowerBound(length: number, size: number, fakeLength: number): number {
  return Math.min(1, (fakeLength + size - 1) / (length + size - 1));
}

/** Exact probability that one crop of `crop` size placed in `interior` overlaps the `fake` rectangle. */
export function cropHitProbability(
  interior: PixelRegion,
  crop: PixelSize,
  fake: PixelRegion,
): number {
  return (
    axisHitProbability(interior.width, crop.width, fake.x - interior.x, fake.width) *
    axisHitProbability(interior.height, crop.height, fake.y - interior.y, fake.height)
  );
}

/** Lower bound, wherever the faked rectangle sits, on the probability that one crop overlaps it. */
export function cropHitLowerBound(interior: PixelSize, crop: PixelSize, fake: PixelSize): number {
  return (
    axisHitLowerBound(interior.width, crop.width, fake.width) *
    axisHitLowerBound(interior.height, crop.height, fake.height)
  );
}

/** Faked area as a fraction of the interior: a number is a square patch; or width/height fractions. */
export type FakeExtent = number | { width: number; height: number };

/**
 * Probability that a check with `cropsPerCheck` independent crops, each `cropFraction` of the
 * interior, overlaps a faked rectangle of the given extent, wherever it sits. Continuous form of
 * the bound (interiors of a few hundred px): per axis (b + a) / (1 + a) with a = sqrt(cropFraction)
 * and b the fake's side fraction. It is never below the faked area fraction, so faking part of a
 * tile buys less gain per unit of risk than faking all of it.
 */
export function partialFakeDetection(
  fake: FakeExtent,
  cropFraction: number,
  cropsPerCheck = 1,
): number {
  const [bw, bh] =
    typeof fake === 'number' ? [Math.sqrt(fake), Math.sqrt(fake)] : [fake.width, fake.height];
  if (![bw, bh].every((b) => b > 0 && b <= 1)) {
    throw new RangeError('the faked extent must be a fraction in (0, 1]');
  }
  if (!(cropFraction > 0 && cropFraction <= 1))
    throw new RangeError('cropFraction must be in (0, 1]');
  const a = Math.sqrt(cropFraction);
  const axis = (b: number) => Math.min(1, (b + a) / (1 + a));
  const one = axis(bw) * axis(bh);
  return 1 - (1 - one) ** cropsPerCheck;
}
