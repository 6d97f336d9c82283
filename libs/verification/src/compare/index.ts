export { compareRenders, type CompareOptions, type ComparisonResult } from './compare-renders';
export { chooseMode, type RenderProvenance } from './provenance';
export {
  DEFAULT_TOLERANCES,
  resolveTolerances,
  perceptualTolerancesSchema,
  type PerceptualTolerances,
} from './tolerances';
export {
  blockStatistics,
  blockEdges,
  highPass,
  noiseLevel,
  type BlockStats,
  type BlockStatsOptions,
} from './block-stats';
export { pixelDiff, type PixelDiffStats } from './pixel-diff';
export type {
  ComparisonMode,
  Verdict,
  ComparisonCheck,
  ComparisonMetrics,
  BlockRect,
  BlockMeanDelta,
  BlockNoise,
  BlockStrongDelta,
} from './types';
