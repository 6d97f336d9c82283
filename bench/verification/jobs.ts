// Benchmark 1b: from per-check detection to per-job detection and the economics of cheating.
//
// For a node that fakes 5% of its N tiles in a job (K = fakedTilesFor(N, 0.05)), with the
// standard policy at its reputation score R:
//   closed form  detectionProbability with the measured rates: overlap coverage kappa times the
//                measured per-strip detection (or, for the checkerboard that was measured,
//                kappa = 1 and the per-tile overlap detection), crop detection d (crops placed
//                by planCropCheck, the comparison's misses included), ringer rate rho(R) times
//                the measured ringer detection;
//   Monte Carlo  jobs simulated with the coordinator's own decisions (shouldIssueRinger,
//                shouldCheckTile, planCropCheck on the demo's tile rectangles), where a check that
//                lands on faked pixels flags it with the measured probability;
//   model        the library's simulateJobDetection (a check that lands on faked pixels always
//                flags it), for comparison.
import {
  bernoulli,
  checkRate,
  detectionProbability,
  DEFAULT_ECONOMICS,
  evidenceForScore,
  expectedValueOfCheating,
  fakedRegion,
  fakedTilesFor,
  newReputation,
  planCropCheck,
  policyFor,
  regionsIntersect,
  reputationScore,
  ringerRate,
  Rng,
  seededRng,
  shouldCheckTile,
  shouldIssueRinger,
  simulateJobDetection,
  TileGeometry,
  TRUSTED_SCORE,
  updateReputation,
  VerificationPolicy,
  bestCheatingStrategy,
  type Cheat,
} from '@tessera/verification';
import { PATCH_FRACTION } from './cheats';
import { ClassResult } from './detection';

export const JOB_SIZES = [20, 100, 1000];
export const FAKED_SHARE = 0.05;
/** overlap coverage assumed for whole-tile fakes: the library README's conservative figure */
export const KAPPA = 0.6;

export interface MeasuredRates {
  /** per strip shared with an honest neighbour */
  overlap: number;
  /** per tile whose every interior edge is shared with honest neighbours: any strip flagged */
  overlapTile: number;
  /** per crop check (perceptual), misses of the comparison included */
  crop: number;
  /** per crop check that landed on faked pixels */
  cropOnHit: number;
  /** whole tile vs its known answer */
  ringer: number;
}

export type Mode = 'exact' | 'perceptual';
export const MODES: readonly Mode[] = ['exact', 'perceptual'];

/** The measured rates on the tiles the cheat changed (a bit-identical "fake" is no wrong tile). */
export function ratesOf(c: ClassResult, mode: Mode): MeasuredRates {
  return {
    overlap: c.strips.wrong.rate(mode),
    overlapTile: c.overlapTiles.wrong.rate(mode),
    crop: c.crops.wrong.rate(mode),
    cropOnHit: c.crops.wrong.rateOnHits(mode),
    ringer: c.ringer.wrong.rate(mode),
  };
}

export interface Reputations {
  /** score of a node that has passed evidenceForScore(TRUSTED_SCORE) checks */
  trusted: number;
  trustedEvidence: number;
  /** the same node after one failed check */
  afterFailure: number;
}

/** The reputation maths as the coordinator drives it: a new node, a trusted one, a failure. */
export function reputations(): Reputations {
  const evidence = evidenceForScore(TRUSTED_SCORE);
  const trusted = updateReputation(newReputation(), { kind: 'check-passed', tiles: evidence });
  const failed = updateReputation(trusted, { kind: 'check-failed' });
  return {
    trusted: reputationScore(trusted),
    trustedEvidence: evidence,
    afterFailure: reputationScore(failed),
  };
}

export function closedForm(
  policy: VerificationPolicy,
  score: number,
  tiles: number,
  fakedTiles: number,
  rates: MeasuredRates,
  kappa = KAPPA,
): number {
  return detectionProbability({
    tiles,
    fakedTiles,
    checkRate: checkRate(score, policy),
    perCheckDetection: rates.crop,
    overlapCoverage: kappa * rates.overlap,
    ringerRate: ringerRate(score, policy) * rates.ringer,
  });
}

function choose(n: number, k: number, rng: Rng): Set<number> {
  const items = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rng() * (n - i));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return new Set(items.slice(0, k));
}

/** simulateJob (libs/verification/src/policy/simulate.ts) with measured comparison outcomes. */
export function simulateMeasured(
  policy: VerificationPolicy,
  score: number,
  tiles: number,
  fakedTiles: number,
  cheat: Cheat,
  rates: MeasuredRates,
  geometry: readonly TileGeometry[],
  trials: number,
  rng: Rng,
  kappa = KAPPA,
): number {
  let caught = 0;
  const q = fakedTiles / tiles;
  for (let t = 0; t < trials; t++) {
    const faked = choose(tiles, fakedTiles, rng);
    let hit = false;
    for (let i = 0; i < tiles && !hit; i++) {
      if (
        shouldIssueRinger(score, rng, policy) &&
        bernoulli(rng, q) &&
        bernoulli(rng, rates.ringer)
      ) {
        hit = true;
      }
      if (!faked.has(i)) continue;
      const tile = geometry[i % geometry.length];
      if (bernoulli(rng, kappa) && bernoulli(rng, rates.overlap)) hit = true;
      if (shouldCheckTile(score, rng, policy)) {
        const fake = fakedRegion(tile, cheat, rng);
        const plan = planCropCheck(tile.region, tile.margins, rng, policy);
        const lands = plan.crops.some((crop) => regionsIntersect(crop, fake));
        if (lands && bernoulli(rng, rates.cropOnHit)) hit = true;
      }
    }
    if (hit) caught++;
  }
  return caught / trials;
}

export interface JobCell {
  tiles: number;
  fakedTiles: number;
  score: number;
  /** kappa = KAPPA, a covered tile caught by its strips at the per-strip rate */
  closed: Record<Mode, number>;
  /** kappa = 1 (the checkerboard measured): every tile caught by its strips at the per-tile rate */
  closedCheckerboard: Record<Mode, number>;
  monteCarlo: Record<Mode, number>;
  model: number;
}

export function cheatKind(group: ClassResult['cls']['group']): Cheat {
  return group === 'partial' ? { kind: 'partial', fake: PATCH_FRACTION } : { kind: group };
}

export function trialsFor(tiles: number): number {
  return tiles >= 1000 ? 600 : tiles >= 100 ? 4000 : 10_000;
}

/** the classes whose cheat kind the library model is shown for */
export const MODEL_CLASSES = ['black', 'margin-aware', 'painted'];

export function jobCells(
  c: ClassResult,
  scores: number[],
  geometry: readonly TileGeometry[],
  seed: number,
): JobCell[] {
  const policy = policyFor('standard');
  const cheat = cheatKind(c.cls.group);
  const cells: JobCell[] = [];
  for (const score of scores) {
    for (const tiles of JOB_SIZES) {
      const fakedTiles = fakedTilesFor(tiles, FAKED_SHARE);
      const trials = trialsFor(tiles);
      const closed = {} as Record<Mode, number>;
      const closedCheckerboard = {} as Record<Mode, number>;
      const monteCarlo = {} as Record<Mode, number>;
      for (const mode of MODES) {
        const rates = ratesOf(c, mode);
        closed[mode] = closedForm(policy, score, tiles, fakedTiles, rates);
        const tileRates = { ...rates, overlap: rates.overlapTile };
        closedCheckerboard[mode] = closedForm(policy, score, tiles, fakedTiles, tileRates, 1);
        monteCarlo[mode] = simulateMeasured(
          policy,
          score,
          tiles,
          fakedTiles,
          cheat,
          rates,
          geometry,
          trials,
          seededRng(seed + tiles + (mode === 'exact' ? 0 : 1)),
        );
      }
      cells.push({
        tiles,
        fakedTiles,
        score,
        closed,
        closedCheckerboard,
        monteCarlo,
        model: !MODEL_CLASSES.includes(c.cls.id)
          ? NaN
          : simulateJobDetection({
              policy,
              reputation: score,
              tiles,
              fakedTiles,
              cheat,
              overlapCoverage: KAPPA,
              geometry,
              trials,
              rng: seededRng(seed + 7 * tiles),
            }),
      });
    }
  }
  return cells;
}

export interface EconomicsRow {
  score: number;
  tiles: number;
  fakedTiles: number;
  detection: number;
  expectedValue: number;
  /** the cheater's best K in 1..N with the measured rates, and its EV */
  bestK: number;
  bestExpectedValue: number;
  /** the library's bestCheatingStrategy (model rates) for the same job */
  modelBestK: number;
  modelBestExpectedValue: number;
}

/**
 * EV of cheating (tile rewards, stake 100, gain 1 per faked tile) with the measured rates of the
 * perceptual mode (the weaker one).
 */
export function economics(c: ClassResult, score: number, tiles: number): EconomicsRow {
  const policy = policyFor('standard');
  const rates = ratesOf(c, 'perceptual');
  const econ = DEFAULT_ECONOMICS;
  const outcome = (k: number) => {
    const p = closedForm(policy, score, tiles, k, rates);
    return expectedValueOfCheating({ ...econ, tiles, fakedTiles: k, detectionProbability: p });
  };
  const fakedTiles = fakedTilesFor(tiles, FAKED_SHARE);
  const at = outcome(fakedTiles);
  let bestK = 1;
  let best = outcome(1).expectedValue;
  for (let k = 2; k <= tiles; k++) {
    const ev = outcome(k).expectedValue;
    if (ev > best) [bestK, best] = [k, ev];
  }
  // the library's model has no overlap coverage here: a whole-tile fake counts as margin-aware
  const modelCheat: Cheat =
    c.cls.group === 'partial' ? cheatKind('partial') : { kind: 'margin-aware' };
  const model = bestCheatingStrategy(policy, score, tiles, econ, modelCheat);
  return {
    score,
    tiles,
    fakedTiles,
    detection: at.detectionProbability,
    expectedValue: at.expectedValue,
    bestK,
    bestExpectedValue: best,
    modelBestK: model.fakedTiles,
    modelBestExpectedValue: model.expectedValue,
  };
}
