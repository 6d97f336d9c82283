// The arithmetic of catching a cheater within one job.
//
// A node renders N work tiles of a job and fakes K of them. Each faked tile escapes
//   - the overlap check with probability 1 - kappa (whole-tile fakes only: kappa is the fraction of
//     its tiles with a neighbour rendered by a different node; a margin-aware fake passes it),
//   - the secret crop check with probability 1 - c * d (c the check rate, d the probability that
//     the crop lands on faked pixels: 1 when the whole interior is faked),
// independently. Ringers are known-answer tiles slipped in at rho per work tile; a node that cannot
// tell them from work fakes each with probability q = K / N, and a faked ringer always fails
// (the whole tile is compared with the known answer). So
//
//   P(caught) = 1 - [(1 - kappa)(1 - c d)]^K * (1 - rho K / N)^N.
import { FakeExtent, partialFakeDetection } from './crop';
import { checkRate, DEFAULT_POLICY, ringerRate, VerificationPolicy } from './sampling';

export interface DetectionParams {
  /** N: work tiles the node renders in the job */
  tiles: number;
  /** K: how many of them it fakes */
  fakedTiles: number;
  /** c: probability that a tile gets a secret crop check */
  checkRate: number;
  /** d: probability that a crop check of a faked tile sees faked pixels (default 1) */
  perCheckDetection?: number;
  /** kappa: probability that a faked tile's overlap strip exposes it (default 0) */
  overlapCoverage?: number;
  /** rho: ringers per work tile (default 0) */
  ringerRate?: number;
}

function assertProbability(name: string, x: number): void {
  if (!(x >= 0 && x <= 1)) throw new RangeError(`${name} must be a probability, got ${x}`);
}

/** Probability that at least one faked tile (or faked ringer) of the job is detected. */
export function detectionProbability(p: DetectionParams): number {
  const { tiles: n, fakedTiles: k } = p;
  if (!Number.isInteger(n) || n < 0) throw new RangeError('tiles must be an integer >= 0');
  if (!Number.isInteger(k) || k < 0 || k > n)
    throw new RangeError('fakedTiles must be in 0..tiles');
  const c = p.checkRate;
  const d = p.perCheckDetection ?? 1;
  const kappa = p.overlapCoverage ?? 0;
  const rho = p.ringerRate ?? 0;
  for (const [name, x] of [
    ['checkRate', c],
    ['perCheckDetection', d],
    ['overlapCoverage', kappa],
    ['ringerRate', rho],
  ] as const) {
    assertProbability(name, x);
  }
  if (k === 0) return 0;
  const perTileMiss = (1 - kappa) * (1 - c * d);
  const ringerMiss = (1 - (rho * k) / n) ** n;
  return 1 - perTileMiss ** k * ringerMiss;
}

/**
 * What the cheater fakes in each faked tile:
 *  - whole-tile: renders nothing real, margins included (caught by any honest neighbour's overlap);
 *  - margin-aware: renders the overlap margins and bands correctly and fakes the whole interior;
 *  - partial: renders everything but a patch of the interior (`fake`: area fraction of the
 *    interior as a square, or width/height fractions).
 */
export type Cheat =
  { kind: 'whole-tile' } | { kind: 'margin-aware' } | { kind: 'partial'; fake: FakeExtent };

/** d for a cheat under a policy: 1 unless only a patch is faked (then the crop-overlap bound). */
export function perCheckDetection(
  cheat: Cheat,
  policy: VerificationPolicy = DEFAULT_POLICY,
): number {
  return cheat.kind === 'partial'
    ? partialFakeDetection(cheat.fake, policy.cropFraction, policy.cropsPerCheck)
    : 1;
}

/** K for "fakes a fraction q of its N tiles": round(qN), at least 1 when q > 0. */
export function fakedTilesFor(tiles: number, fraction: number): number {
  assertProbability('fraction', fraction);
  return fraction === 0 ? 0 : Math.min(tiles, Math.max(1, Math.round(fraction * tiles)));
}

export interface JobScenario {
  tiles: number;
  fakedTiles: number;
  cheat: Cheat;
  /** kappa, used for whole-tile fakes only (see `overlapCoverage` in geometry.ts); default 0 */
  overlapCoverage?: number;
}

/**
 * P(caught) for a node with this reputation score under a policy: the check and ringer rates come
 * from the policy, d from the cheat, and kappa counts only against whole-tile fakes.
 */
export function jobDetectionProbability(
  policy: VerificationPolicy,
  reputation: number,
  scenario: JobScenario,
): number {
  return detectionProbability({
    tiles: scenario.tiles,
    fakedTiles: scenario.fakedTiles,
    checkRate: checkRate(reputation, policy),
    ringerRate: ringerRate(reputation, policy),
    perCheckDetection: perCheckDetection(scenario.cheat, policy),
    overlapCoverage: scenario.cheat.kind === 'whole-tile' ? (scenario.overlapCoverage ?? 0) : 0,
  });
}

/**
 * The check rate at which a node faking K tile interiors is caught with probability `target` by
 * crops alone: 1 - (1 - target)^(1/K) (divided by d when a check finds a fake with probability d).
 * Returns Infinity when no rate is enough.
 */
export function checkRateForDetection(target: number, fakedTiles: number, perCheck = 1): number {
  assertProbability('target', target);
  assertProbability('perCheck', perCheck);
  if (!Number.isInteger(fakedTiles) || fakedTiles < 1)
    throw new RangeError('fakedTiles must be >= 1');
  const c = (1 - (1 - target) ** (1 / fakedTiles)) / perCheck;
  return c <= 1 ? c : Infinity;
}
