// Compare two renders of the same region: exactly (same Blender build and device class: honest
// re-renders are bit-identical) or perceptually (different device classes), see README.
import pixelmatch from 'pixelmatch';
import { assertRgbaImage, RgbaImage } from '../image/rgba-image';
import { blockStatistics, ratioSpread } from './block-stats';
import { pixelDiff } from './pixel-diff';
import { PerceptualTolerances, resolveTolerances } from './tolerances';
import type { ComparisonCheck, ComparisonMetrics, ComparisonMode, Verdict } from './types';

export interface CompareOptions {
  mode: ComparisonMode;
  /** perceptual mode: overrides of DEFAULT_TOLERANCES */
  tolerances?: Partial<PerceptualTolerances>;
}

export interface ComparisonResult {
  verdict: Verdict;
  mode: ComparisonMode;
  /** the pixels are byte-identical (whatever the mode) */
  exact: boolean;
  /** one line for logs, dashboards and arbitration records */
  reason: string;
  /** the checks that failed, empty on a match */
  failed: ComparisonCheck[];
  metrics: ComparisonMetrics;
  /** perceptual mode: the tolerances applied */
  tolerances?: PerceptualTolerances;
}

const pct = (r: number) => `${(r * 100).toFixed(r < 0.001 && r > 0 ? 3 : 2)}%`;
const num = (v: number, digits = 1) => v.toFixed(digits);
const CHANNEL_NAMES = { r: 'red', g: 'green', b: 'blue', a: 'alpha' } as const;

/**
 * Compare two renders of the same pixels. `a` is the reference where there is one (a ringer's
 * known answer, the trusted re-render); the noise ratios read "b relative to a".
 */
export function compareRenders(a: RgbaImage, b: RgbaImage, opts: CompareOptions): ComparisonResult {
  assertRgbaImage(a, 'a');
  assertRgbaImage(b, 'b');
  const { mode } = opts;
  if (mode !== 'exact' && mode !== 'perceptual') throw new RangeError(`unknown mode ${mode}`);
  const tolerances = mode === 'perceptual' ? resolveTolerances(opts.tolerances) : undefined;

  if (a.width !== b.width || a.height !== b.height) {
    const pixels = a.width * a.height;
    return {
      verdict: 'mismatch',
      mode,
      exact: false,
      reason: `size mismatch: ${a.width}x${a.height} vs ${b.width}x${b.height}`,
      failed: ['size'],
      metrics: {
        pixels,
        differingPixels: pixels,
        maxChannelDelta: 255,
        meanAbsDelta: 255,
        sizeMismatch: {
          a: { width: a.width, height: a.height },
          b: { width: b.width, height: b.height },
        },
      },
      tolerances,
    };
  }

  const diff = pixelDiff(a, b, tolerances?.strongDelta);
  const exact = diff.differingPixels === 0;
  const metrics: ComparisonMetrics = {
    pixels: diff.pixels,
    differingPixels: diff.differingPixels,
    maxChannelDelta: diff.maxChannelDelta,
    meanAbsDelta: diff.meanAbsDelta,
  };

  if (mode === 'exact') {
    return {
      verdict: exact ? 'match' : 'mismatch',
      mode,
      exact,
      reason: exact
        ? `pixels identical (${a.width}x${a.height})`
        : `${diff.differingPixels} of ${diff.pixels} pixels differ (${pct(diff.differingPixels / diff.pixels)}), by up to ${diff.maxChannelDelta}/255`,
      failed: exact ? [] : ['exact'],
      metrics,
    };
  }
  return perceptual(a, b, tolerances!, diff.strongDeltaPixels, metrics, exact);
}

function perceptual(
  a: RgbaImage,
  b: RgbaImage,
  t: PerceptualTolerances,
  strongDeltaPixels: number,
  metrics: ComparisonMetrics,
  exact: boolean,
): ComparisonResult {
  const { width, height } = a;
  const flagged = exact
    ? 0
    : pixelmatch(aligned(a.data), aligned(b.data), null, width, height, {
        threshold: t.pixelmatchThreshold,
      });
  const blocks = blockStatistics(a, b, t);
  metrics.strongDeltaRatio = strongDeltaPixels / metrics.pixels;
  metrics.pixelmatchRatio = flagged / metrics.pixels;
  metrics.worstBlock = blocks.worstBlock;
  metrics.worstStrongBlock = blocks.worstStrongBlock;
  metrics.noise = blocks.noise;
  metrics.worstNoiseBlock = blocks.worstNoiseBlock;

  const failures: Array<[ComparisonCheck, string]> = [];
  if (metrics.pixelmatchRatio > t.maxPixelmatchRatio) {
    failures.push([
      'pixelmatch',
      `pixelmatch flags ${pct(metrics.pixelmatchRatio)} of pixels (threshold ${t.pixelmatchThreshold}; at most ${pct(t.maxPixelmatchRatio)})`,
    ]);
  }
  if (metrics.strongDeltaRatio > t.maxStrongDeltaRatio) {
    failures.push([
      'strongDelta',
      `${pct(metrics.strongDeltaRatio)} of pixels differ by more than ${t.strongDelta}/255 (at most ${pct(t.maxStrongDeltaRatio)}): not the same noise (other seed, samples or content)`,
    ]);
  }
  const wb = blocks.worstBlock;
  if (wb.meanDelta > t.maxBlockMeanDelta) {
    failures.push([
      'blockMean',
      `block ${wb.width}x${wb.height} at (${wb.x},${wb.y}) differs by ${num(wb.meanDelta)}/255 in mean ${CHANNEL_NAMES[wb.channel]} (at most ${t.maxBlockMeanDelta})`,
    ]);
  }
  const sb = blocks.worstStrongBlock;
  if (sb.ratio > t.maxBlockStrongDeltaRatio) {
    failures.push([
      'blockStrongDelta',
      `block ${sb.width}x${sb.height} at (${sb.x},${sb.y}): ${pct(sb.ratio)} of its pixels differ by more than ${t.strongDelta}/255 (at most ${pct(t.maxBlockStrongDeltaRatio)}): a patch`,
    ]);
  }
  const noise = blocks.noise;
  if (ratioSpread(noise.ratio) > t.maxNoiseRatio) {
    failures.push([
      'noise',
      `noise level ${num(noise.ratio, 2)}x the reference's (${num(noise.b, 2)} vs ${num(noise.a, 2)}; allowed ${num(1 / t.maxNoiseRatio, 2)}-${num(t.maxNoiseRatio, 2)}x): ${noise.ratio > 1 ? 'fewer samples or added noise' : 'upscaled, blurred or smoothed'}`,
    ]);
  }
  const nb = blocks.worstNoiseBlock;
  if (ratioSpread(nb.ratio) > t.maxBlockNoiseRatio) {
    failures.push([
      'blockNoise',
      `block ${nb.width}x${nb.height} at (${nb.x},${nb.y}) has ${num(nb.ratio, 2)}x the reference's noise level (${num(nb.b, 2)} vs ${num(nb.a, 2)}; allowed ${num(1 / t.maxBlockNoiseRatio, 2)}-${num(t.maxBlockNoiseRatio, 2)}x)`,
    ]);
  }

  const match = failures.length === 0;
  return {
    verdict: match ? 'match' : 'mismatch',
    mode: 'perceptual',
    exact,
    reason: match
      ? exact
        ? `pixels identical (${width}x${height})`
        : `perceptually equivalent: pixelmatch ${pct(metrics.pixelmatchRatio)}, strong deltas ${pct(metrics.strongDeltaRatio)}, worst block mean delta ${num(wb.meanDelta)}, noise ratio ${num(noise.ratio, 2)} (worst block ${num(nb.ratio, 2)})`
      : failures.map(([, why]) => why).join('; '),
    failed: failures.map(([check]) => check),
    metrics,
    tolerances: t,
  };
}

/** pixelmatch views the pixels as Uint32: the byte offset must be a multiple of 4. */
function aligned(buf: Buffer): Buffer {
  if (buf.byteOffset % 4 === 0) return buf;
  const copy = Buffer.alloc(buf.length);
  buf.copy(copy);
  return copy;
}
