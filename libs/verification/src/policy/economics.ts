// Whether cheating pays. Against rendering honestly, a node that fakes K of its N tiles in a job
// saves g per faked tile (the render cost it skips; at most the reward r). Undetected it keeps
// everything; detected, its work on the job is invalidated (N r unpaid), its stake S is slashed
// and it loses the value L of its reputation. So, relative to honest work,
//
//   EV = K g - P (S + N r + L),
//
// negative exactly when P (S + N r + L) > K g. Since P is concave in K and K g linear, EV is
// convex in K and the cheater's best K is 1 or N; for small shares of a job the stake carries
// the deterrent, for large shares the forfeited rewards do.
import { Cheat, jobDetectionProbability } from './detection';
import { DEFAULT_POLICY, VerificationPolicy } from './sampling';

export interface CheatingEconomics {
  /** r: what an accepted tile pays */
  rewardPerTile: number;
  /** g: what faking a tile saves (its render cost); defaults to r, the cheater's best case */
  gainPerFakedTile?: number;
  /** S: stake slashed on a verdict against the node */
  stake: number;
  /** L: value to the node of the trust it loses (default 0: conservative) */
  reputationValue?: number;
}

/** Money in units of one tile's reward; the stake the defaults are argued for is 100 of them. */
export const DEFAULT_ECONOMICS: Readonly<Required<CheatingEconomics>> = Object.freeze({
  rewardPerTile: 1,
  gainPerFakedTile: 1,
  stake: 100,
  reputationValue: 0,
});

export interface CheatingOutcome {
  detectionProbability: number;
  /** K g: kept when undetected */
  gainIfUndetected: number;
  /** S + N r + L - K g: the net loss against honest work when detected */
  lossIfDetected: number;
  /** K g - P (S + N r + L) */
  expectedValue: number;
}

function money(name: string, x: number): number {
  if (!Number.isFinite(x) || x < 0) throw new RangeError(`${name} must be a number >= 0`);
  return x;
}

/** EV of cheating minus EV of honest work for one job. */
export function expectedValueOfCheating(
  input: CheatingEconomics & { tiles: number; fakedTiles: number; detectionProbability: number },
): CheatingOutcome {
  const r = money('rewardPerTile', input.rewardPerTile);
  const g = money('gainPerFakedTile', input.gainPerFakedTile ?? r);
  const s = money('stake', input.stake);
  const l = money('reputationValue', input.reputationValue ?? 0);
  const p = input.detectionProbability;
  if (!(p >= 0 && p <= 1)) throw new RangeError('detectionProbability must be a probability');
  const gain = input.fakedTiles * g;
  const forfeit = s + input.tiles * r + l;
  return {
    detectionProbability: p,
    gainIfUndetected: gain,
    lossIfDetected: forfeit - gain,
    expectedValue: gain - p * forfeit,
  };
}

export interface WorstCheat extends CheatingOutcome {
  fakedTiles: number;
}

/**
 * The cheater's best choice of K in 1..N (by EV) for a node with this reputation, faking tile
 * interiors (margin-aware: no overlap check helps) unless another cheat is given.
 */
export function bestCheatingStrategy(
  policy: VerificationPolicy,
  reputation: number,
  tiles: number,
  economics: CheatingEconomics = DEFAULT_ECONOMICS,
  cheat: Cheat = { kind: 'margin-aware' },
): WorstCheat {
  if (!Number.isInteger(tiles) || tiles < 1) throw new RangeError('tiles must be an integer >= 1');
  let best: WorstCheat | undefined;
  for (let k = 1; k <= tiles; k++) {
    const p = jobDetectionProbability(policy, reputation, { tiles, fakedTiles: k, cheat });
    const outcome = expectedValueOfCheating({
      ...economics,
      tiles,
      fakedTiles: k,
      detectionProbability: p,
    });
    if (!best || outcome.expectedValue > best.expectedValue) best = { ...outcome, fakedTiles: k };
  }
  return best!;
}

/**
 * The stake below which some K in 1..N makes cheating pay (EV >= 0) for a node with this
 * reputation and a share of N tiles in a job: max over K of K g / P(K) - N r - L, at least 0.
 * With the standard policy a fully trusted node with one tile in a job needs about 33 tile
 * rewards; the default stake of 100 leaves a margin of three.
 */
export function minimumStake(
  policy: VerificationPolicy = DEFAULT_POLICY,
  reputation = 1,
  tiles = 1,
  economics: Omit<CheatingEconomics, 'stake'> = DEFAULT_ECONOMICS,
  cheat: Cheat = { kind: 'margin-aware' },
): number {
  const r = economics.rewardPerTile;
  const g = economics.gainPerFakedTile ?? r;
  const l = economics.reputationValue ?? 0;
  let worst = 0;
  for (let k = 1; k <= tiles; k++) {
    const p = jobDetectionProbability(policy, reputation, { tiles, fakedTiles: k, cheat });
    if (p === 0) return Infinity;
    worst = Math.max(worst, (k * g) / p - tiles * r - l);
  }
  return worst;
}
