export type ComparisonMode = 'exact' | 'perceptual';
export type Verdict = 'match' | 'mismatch';

/** The tests a comparison can fail, in the order they are reported. */
export type ComparisonCheck =
  | 'size'
  | 'exact'
  | 'pixelmatch'
  | 'strongDelta'
  | 'blockMean'
  | 'blockStrongDelta'
  | 'noise'
  | 'blockNoise';

/** A rectangle of the compared images (their own coordinates). */
export interface BlockRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface BlockMeanDelta extends BlockRect {
  /** |mean(a) - mean(b)| of the worst channel, 0..255 */
  meanDelta: number;
  channel: 'r' | 'g' | 'b' | 'a';
}

export interface BlockNoise extends BlockRect {
  /** noise level (luma high-pass RMS, 8-bit units) of a and of b */
  a: number;
  b: number;
  /** max(b, floor) / max(a, floor): above 1, b is noisier */
  ratio: number;
}

export interface BlockStrongDelta extends BlockRect {
  /** fraction of the block's pixels that differ strongly */
  ratio: number;
}

export interface ComparisonMetrics {
  /** pixels compared (of a, when the sizes differ) */
  pixels: number;
  /** pixels with any channel different (all of them when the sizes differ) */
  differingPixels: number;
  /** largest difference of one channel of one pixel, 0..255 */
  maxChannelDelta: number;
  /** mean |a - b| over all RGBA channels, 0..255 */
  meanAbsDelta: number;
  /** perceptual: fraction of pixels differing by more than tolerances.strongDelta */
  strongDeltaRatio?: number;
  /** perceptual: fraction of pixels pixelmatch flags */
  pixelmatchRatio?: number;
  /** perceptual: the block whose mean differs most */
  worstBlock?: BlockMeanDelta;
  /** perceptual: the block with the largest share of strongly differing pixels */
  worstStrongBlock?: BlockStrongDelta;
  /** perceptual: noise level of the whole region, b relative to a */
  noise?: { a: number; b: number; ratio: number };
  /** perceptual: the block whose noise level differs most (either way) */
  worstNoiseBlock?: BlockNoise;
  /** sizes, when they differ */
  sizeMismatch?: { a: { width: number; height: number }; b: { width: number; height: number } };
}
