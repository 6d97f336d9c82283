// Tolerances of the perceptual comparison (renders of the same frame, seed, samples and region on
// different device classes). DEFAULT_TOLERANCES is calibrated on real Blender renders: see
// "## Comparisons and calibration" in libs/verification/README.md for how, and the numbers.
import { z } from 'zod';

export interface PerceptualTolerances {
  /** pixelmatch's per-pixel threshold (0..1, YIQ colour distance; 0.1 is pixelmatch's default) */
  pixelmatchThreshold: number;
  /** largest fraction of pixels that pixelmatch may flag (anti-aliased pixels are not flagged) */
  maxPixelmatchRatio: number;
  /** a pixel differs strongly when one of its channels differs by more than this (0..255) */
  strongDelta: number;
  /**
   * Largest fraction of strongly differing pixels. Same-seed renders share their noise and stay
   * far below; renders whose noise is not the reference's (another seed, fewer samples) do not.
   */
  maxStrongDeltaRatio: number;
  /** edge of the square blocks of the block test, pixels (ragged edge blocks are merged) */
  blockSize: number;
  /** largest difference of the mean of any channel in any block (0..255) */
  maxBlockMeanDelta: number;
  /**
   * Largest fraction of strongly differing pixels in any one block: a cluster of them is a
   * painted or faked patch, even when the whole region's fraction is small.
   */
  maxBlockStrongDeltaRatio: number;
  /**
   * Largest ratio (either way) between the noise levels of the two images: the RMS of the
   * luma high-pass (pixel minus the mean of its 4 neighbours) over the whole region. More noise:
   * fewer samples; less: upscaled, blurred or smoothed.
   */
  maxNoiseRatio: number;
  /** noise levels below this (8-bit luma units) count as this, so flat regions compare as equal */
  noiseFloor: number;
  /** the same ratio per block: catches a patch painted flat, even with the right mean colour */
  maxBlockNoiseRatio: number;
  /** noise floor per block */
  blockNoiseFloor: number;
}

export const perceptualTolerancesSchema = z.object({
  pixelmatchThreshold: z.number().gt(0).lte(1),
  maxPixelmatchRatio: z.number().min(0).max(1),
  strongDelta: z.number().int().min(0).max(254),
  maxStrongDeltaRatio: z.number().min(0).max(1),
  blockSize: z.number().int().min(2).max(1024),
  maxBlockMeanDelta: z.number().min(0).max(255),
  maxBlockStrongDeltaRatio: z.number().min(0).max(1),
  maxNoiseRatio: z.number().min(1),
  noiseFloor: z.number().gt(0),
  maxBlockNoiseRatio: z.number().min(1),
  blockNoiseFloor: z.number().gt(0),
});

/**
 * Calibrated on Blender 3.4.1 CPU renders (see README). Valid for CPU-vs-CPU across kernels
 * (AVX2 / SSE4.1 / SSE2) and BVH layouts (Embree / BVH2); CUDA, OptiX, HIP and Metal are not
 * calibrated yet (README, TODO).
 */
export const DEFAULT_TOLERANCES: Readonly<PerceptualTolerances> = Object.freeze({
  pixelmatchThreshold: 0.1,
  maxPixelmatchRatio: 0.01,
  strongDelta: 8,
  maxStrongDeltaRatio: 0.02,
  blockSize: 16,
  maxBlockMeanDelta: 3,
  maxBlockStrongDeltaRatio: 0.1,
  maxNoiseRatio: 1.3,
  noiseFloor: 1,
  maxBlockNoiseRatio: 2.5,
  blockNoiseFloor: 2,
});

/** Defaults overridden by `overrides`, validated. */
export function resolveTolerances(overrides?: Partial<PerceptualTolerances>): PerceptualTolerances {
  const merged = { ...DEFAULT_TOLERANCES, ...(overrides ?? {}) };
  const parsed = perceptualTolerancesSchema.safeParse(merged);
  if (!parsed.success) {
    throw new RangeError(`invalid perceptual tolerances: ${parsed.error.message}`);
  }
  return parsed.data;
}
