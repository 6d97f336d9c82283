// Running compareRenders in both modes and keeping score.
import {
  compareRenders,
  ComparisonCheck,
  ComparisonResult,
  DEFAULT_TOLERANCES,
  RgbaImage,
} from '@tessera/verification';

export interface PairResult {
  exact: ComparisonResult;
  perceptual: ComparisonResult;
}

export function compareBoth(a: RgbaImage, b: RgbaImage): PairResult {
  return {
    exact: compareRenders(a, b, { mode: 'exact' }),
    perceptual: compareRenders(a, b, { mode: 'perceptual' }),
  };
}

const spread = (r: number) => Math.max(r, 1 / r);

/** The perceptual metrics that have a tolerance, as (value, tolerance). */
export const METRICS = [
  'pixelmatch',
  'strongDelta',
  'blockMean',
  'blockStrongDelta',
  'noise',
  'blockNoise',
] as const;
export type Metric = (typeof METRICS)[number];

export const TOLERANCE: Record<Metric, number> = {
  pixelmatch: DEFAULT_TOLERANCES.maxPixelmatchRatio,
  strongDelta: DEFAULT_TOLERANCES.maxStrongDeltaRatio,
  blockMean: DEFAULT_TOLERANCES.maxBlockMeanDelta,
  blockStrongDelta: DEFAULT_TOLERANCES.maxBlockStrongDeltaRatio,
  noise: DEFAULT_TOLERANCES.maxNoiseRatio,
  blockNoise: DEFAULT_TOLERANCES.maxBlockNoiseRatio,
};

export function metricValues(r: ComparisonResult): Record<Metric, number> {
  const m = r.metrics;
  return {
    pixelmatch: m.pixelmatchRatio ?? 0,
    strongDelta: m.strongDeltaRatio ?? 0,
    blockMean: m.worstBlock?.meanDelta ?? 0,
    blockStrongDelta: m.worstStrongBlock?.ratio ?? 0,
    noise: spread(m.noise?.ratio ?? 1),
    blockNoise: spread(m.worstNoiseBlock?.ratio ?? 1),
  };
}

/** Honest comparisons of one kind: how many, how many rejected in each mode, worst metrics. */
export class HonestTally {
  n = 0;
  identical = 0;
  exactRejections = 0;
  perceptualRejections = 0;
  pixels = 0;
  maxDelta = 0;
  readonly worst: Record<Metric, number> = {
    pixelmatch: 0,
    strongDelta: 0,
    blockMean: 0,
    blockStrongDelta: 0,
    noise: 1,
    blockNoise: 1,
  };
  readonly rejected: string[] = [];

  constructor(
    readonly label: string,
    readonly what: string,
    /** exact mode applies (same device class); false for the cross-kernel renders */
    readonly exactApplies = true,
  ) {}

  add(a: RgbaImage, b: RgbaImage, where: string): PairResult {
    const r = compareBoth(a, b);
    this.n++;
    this.pixels += r.exact.metrics.pixels;
    if (r.exact.exact) this.identical++;
    this.maxDelta = Math.max(this.maxDelta, r.exact.metrics.maxChannelDelta);
    if (this.exactApplies && r.exact.verdict === 'mismatch') {
      this.exactRejections++;
      this.rejected.push(`${where} (exact): ${r.exact.reason}`);
    }
    if (r.perceptual.verdict === 'mismatch') {
      this.perceptualRejections++;
      this.rejected.push(`${where} (perceptual): ${r.perceptual.reason}`);
    }
    const values = metricValues(r.perceptual);
    for (const k of METRICS) this.worst[k] = Math.max(this.worst[k], values[k]);
    return r;
  }
}

/** Outcomes of one kind of check against one cheat class. */
export class CheckTally {
  n = 0;
  /** the check looked at faked pixels (crops: the crop intersects the fake) */
  hits = 0;
  /** the checked pixels differ from the honest ones at all */
  differ = 0;
  exactFlags = 0;
  perceptualFlags = 0;
  /** flags among the hits */
  exactFlagsOnHits = 0;
  perceptualFlagsOnHits = 0;
  readonly failedChecks = new Map<ComparisonCheck, number>();
  /** perceptual misses where pixels differed: the largest mean |delta| among them (0..255) */
  missMaxMeanDelta = 0;
  missesThatDiffer = 0;

  add(r: PairResult, hit: boolean): void {
    this.n++;
    if (hit) this.hits++;
    if (!r.exact.exact) this.differ++;
    if (r.exact.verdict === 'mismatch') {
      this.exactFlags++;
      if (hit) this.exactFlagsOnHits++;
    }
    if (r.perceptual.verdict === 'mismatch') {
      this.perceptualFlags++;
      if (hit) this.perceptualFlagsOnHits++;
      for (const c of r.perceptual.failed) {
        this.failedChecks.set(c, (this.failedChecks.get(c) ?? 0) + 1);
      }
    } else if (!r.exact.exact) {
      this.missesThatDiffer++;
      this.missMaxMeanDelta = Math.max(this.missMaxMeanDelta, r.exact.metrics.meanAbsDelta);
    }
  }

  rate(mode: 'exact' | 'perceptual'): number {
    return this.n === 0 ? 0 : (mode === 'exact' ? this.exactFlags : this.perceptualFlags) / this.n;
  }

  /** P(flag | the check looked at faked pixels) */
  rateOnHits(mode: 'exact' | 'perceptual'): number {
    if (this.hits === 0) return 0;
    return (mode === 'exact' ? this.exactFlagsOnHits : this.perceptualFlagsOnHits) / this.hits;
  }

  topChecks(limit = 3): string {
    return [...this.failedChecks.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([c, k]) => `${c} (${k})`)
      .join(', ');
  }
}

/**
 * A check's outcomes over every faked tile, and over the tiles the cheat actually changed (a
 * "fake" that is bit-identical to the honest render, e.g. 1/8 of the samples in a flat sky, is
 * the right answer: nothing to detect).
 */
export class SplitTally {
  readonly all = new CheckTally();
  readonly wrong = new CheckTally();

  add(r: PairResult, hit: boolean, tileIsWrong: boolean): void {
    this.all.add(r, hit);
    if (tileIsWrong) this.wrong.add(r, hit);
  }
}
