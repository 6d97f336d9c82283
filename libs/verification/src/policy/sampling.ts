// The sampling policy: which tiles of a node get a secret crop re-render, how large, and how
// often a lease is a ringer (a tile whose answer is already verified), as functions of the node's
// reputation. New nodes are checked at the rate that catches a node faking `referenceFakedTiles`
// tile interiors with `targetDetection` probability; the rate falls linearly with the reputation
// score to `minCheckRate`. Since the score is E / (E + H), the rate above the floor is
// proportional to H / (E + H): it halves when the evidence reaches H, like BOINC's adaptive
// replication, which trusts a host in proportion to its record of valid results.
import type { Margins, PixelRegion } from '@tessera/protocol';
import { CropShape, cropSize, placeCropAxis } from './crop';
import { CrossCheckedEdges, interiorRegion } from './geometry';
import { bernoulli, Rng } from './rng';

export type PolicyStrength = 'light' | 'standard' | 'paranoid';
export const POLICY_STRENGTHS: readonly PolicyStrength[] = ['light', 'standard', 'paranoid'];

export interface VerificationPolicy extends CropShape {
  /** detection probability wanted against a new node faking `referenceFakedTiles` tile interiors */
  targetDetection: number;
  /** the number of faked tiles the target is stated for: 5 = 5% of a 100-tile share of a job */
  referenceFakedTiles: number;
  /** check rate of a fully trusted node (the floor) */
  minCheckRate: number;
  /** cap on the check rate of a new node */
  maxCheckRate: number;
  /** crop area as a fraction of the tile interior (each side is sqrt of it) */
  cropFraction: number;
  /** shortest crop side in px */
  minCropSide: number;
  /** independent crops per check (each re-rendered; more crops catch small patches better) */
  cropsPerCheck: number;
  /** ringers per work tile for a new node */
  ringerRateNew: number;
  /** ringers per work tile for a fully trusted node */
  ringerRateTrusted: number;
}

export const POLICIES: Readonly<Record<PolicyStrength, Readonly<VerificationPolicy>>> =
  Object.freeze({
    light: Object.freeze({
      targetDetection: 0.95,
      referenceFakedTiles: 5,
      minCheckRate: 0.01,
      maxCheckRate: 1,
      cropFraction: 0.16,
      minCropSide: 8,
      cropsPerCheck: 1,
      ringerRateNew: 0.02,
      ringerRateTrusted: 0.005,
    }),
    standard: Object.freeze({
      targetDetection: 0.99,
      referenceFakedTiles: 5,
      minCheckRate: 0.02,
      maxCheckRate: 1,
      cropFraction: 0.25,
      minCropSide: 8,
      cropsPerCheck: 1,
      ringerRateNew: 0.05,
      ringerRateTrusted: 0.01,
    }),
    paranoid: Object.freeze({
      targetDetection: 0.999,
      referenceFakedTiles: 5,
      minCheckRate: 0.05,
      maxCheckRate: 1,
      cropFraction: 0.25,
      minCropSide: 8,
      cropsPerCheck: 2,
      ringerRateNew: 0.08,
      ringerRateTrusted: 0.02,
    }),
  });

export const DEFAULT_POLICY: Readonly<VerificationPolicy> = POLICIES.standard;

const probability = (x: number) => x >= 0 && x <= 1;

/** Throws a RangeError naming the first field out of range. */
export function validatePolicy(p: VerificationPolicy): void {
  const fail = (field: string, rule: string) => {
    throw new RangeError(`verification policy: ${field} must be ${rule}`);
  };
  if (!(p.targetDetection > 0 && p.targetDetection < 1)) fail('targetDetection', 'in (0, 1)');
  if (!Number.isInteger(p.referenceFakedTiles) || p.referenceFakedTiles < 1) {
    fail('referenceFakedTiles', 'an integer >= 1');
  }
  if (!probability(p.minCheckRate)) fail('minCheckRate', 'in [0, 1]');
  if (!(probability(p.maxCheckRate) && p.maxCheckRate >= p.minCheckRate)) {
    fail('maxCheckRate', 'in [minCheckRate, 1]');
  }
  if (!(p.cropFraction > 0 && p.cropFraction <= 1)) fail('cropFraction', 'in (0, 1]');
  if (!Number.isInteger(p.minCropSide) || p.minCropSide < 1) fail('minCropSide', 'an integer >= 1');
  if (!Number.isInteger(p.cropsPerCheck) || p.cropsPerCheck < 1) {
    fail('cropsPerCheck', 'an integer >= 1');
  }
  if (!probability(p.ringerRateNew)) fail('ringerRateNew', 'in [0, 1]');
  if (!(probability(p.ringerRateTrusted) && p.ringerRateTrusted <= p.ringerRateNew)) {
    fail('ringerRateTrusted', 'in [0, ringerRateNew]');
  }
}

/** A named policy, optionally adjusted; validated. */
export function policyFor(
  strength: PolicyStrength = 'standard',
  overrides: Partial<VerificationPolicy> = {},
): VerificationPolicy {
  const base = POLICIES[strength];
  if (!base) throw new RangeError(`unknown verification policy strength ${String(strength)}`);
  const policy = { ...base, ...overrides };
  validatePolicy(policy);
  return policy;
}

function assertReputation(reputation: number): void {
  if (!(reputation >= 0 && reputation <= 1)) {
    throw new RangeError(`reputation must be a score in [0, 1], got ${reputation}`);
  }
}

/**
 * The check rate of a node with no trust: the smallest c with 1 - (1 - c)^K >= targetDetection for
 * K = referenceFakedTiles, i.e. 1 - (1 - target)^(1/K), within [minCheckRate, maxCheckRate].
 * Standard: 1 - 0.01^(1/5) = 0.602.
 */
export function newNodeCheckRate(policy: VerificationPolicy = DEFAULT_POLICY): number {
  const c = 1 - (1 - policy.targetDetection) ** (1 / policy.referenceFakedTiles);
  return Math.min(policy.maxCheckRate, Math.max(policy.minCheckRate, c));
}

/**
 * Probability that a tile of a node with this reputation score gets a secret crop re-render:
 * minCheckRate + (newNodeCheckRate - minCheckRate) * (1 - reputation). Decreasing in reputation,
 * never below the floor.
 */
export function checkRate(reputation: number, policy: VerificationPolicy = DEFAULT_POLICY): number {
  assertReputation(reputation);
  const top = newNodeCheckRate(policy);
  return policy.minCheckRate + (top - policy.minCheckRate) * (1 - reputation);
}

/**
 * The score to sample a node's tiles in one job with: its score when it first leased work in the
 * job, or its current score if that is lower. Checks passed during the job do not lower the job's
 * check rate (a node cannot work honestly through the first half of a job to fake the second
 * half more cheaply), while a failure counts at once.
 */
export function samplingReputation(atFirstLease: number, current: number): number {
  assertReputation(atFirstLease);
  assertReputation(current);
  return Math.min(atFirstLease, current);
}

/** Expected ringers per work tile: from ringerRateNew at score 0 down to ringerRateTrusted at 1. */
export function ringerRate(
  reputation: number,
  policy: VerificationPolicy = DEFAULT_POLICY,
): number {
  assertReputation(reputation);
  return (
    policy.ringerRateTrusted + (policy.ringerRateNew - policy.ringerRateTrusted) * (1 - reputation)
  );
}

/** Whether this tile gets a secret crop check. One rng draw; call once per accepted tile. */
export function shouldCheckTile(
  reputation: number,
  rng: Rng,
  policy: VerificationPolicy = DEFAULT_POLICY,
): boolean {
  return bernoulli(rng, checkRate(reputation, policy));
}

/**
 * Whether to slip a ringer (a re-issued tile or crop with a verified answer the node has not
 * rendered) in next to this work lease. One rng draw; call once per work tile leased to the node.
 */
export function shouldIssueRinger(
  reputation: number,
  rng: Rng,
  policy: VerificationPolicy = DEFAULT_POLICY,
): boolean {
  return bernoulli(rng, ringerRate(reputation, policy));
}

export interface CropPlan {
  /** where crops may fall: the core minus the cross-checked bands along interior edges */
  interior: PixelRegion;
  /** the crops to re-render on other nodes, in frame pixels like the tile's region */
  crops: PixelRegion[];
}

/**
 * Chooses `cropsPerCheck` random crops inside the tile's interior (see `interiorRegion`), each of
 * `cropSize`, placed so every interior pixel is covered with probability at least C / (L + C - 1)
 * per axis (see crop.ts). Two rng draws per crop. Use `cryptoRng()` in production.
 */
export function planCropCheck(
  region: PixelRegion,
  margins: Margins,
  rng: Rng,
  policy: VerificationPolicy = DEFAULT_POLICY,
  crossChecked: CrossCheckedEdges = {},
): CropPlan {
  const interior = interiorRegion(region, margins, crossChecked);
  const size = cropSize(interior, policy);
  const crops = Array.from({ length: policy.cropsPerCheck }, () => ({
    x: placeCropAxis(rng, interior.x, interior.width, size.width),
    y: placeCropAxis(rng, interior.y, interior.height, size.height),
    width: size.width,
    height: size.height,
  }));
  return { interior, crops };
}
