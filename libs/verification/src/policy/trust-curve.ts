// How long an honest node takes to earn trust under a policy: the expected trajectory of its
// evidence when every check and ringer it gets passes. Per work tile the evidence grows by
// c(R) + rho(R) (secret checks and ringers passed) + w * kappa (overlaps agreed), and the check
// rate falls as the score R rises, so trust comes ever more slowly.
import {
  DEFAULT_REPUTATION_PARAMS,
  evidenceForScore,
  halfTrustFor,
  newReputation,
  ReputationParams,
} from './reputation';
import { checkRate, DEFAULT_POLICY, ringerRate, VerificationPolicy } from './sampling';

export interface TrustTrajectory {
  /** work tiles rendered */
  tiles: number;
  /** expected secret checks and ringers passed on the way */
  verifiedTiles: number;
  /** expected overlap agreements on the way */
  overlapAgreements: number;
}

/**
 * Expected work tiles an honest node with no failures renders before its score reaches
 * `targetScore` (e.g. TRUSTED_SCORE), with a fraction `overlapCoverage` of its tiles
 * cross-checked by a neighbour. Deterministic (expected values, no rng).
 */
export function expectedTilesToTrust(
  targetScore: number,
  policy: VerificationPolicy = DEFAULT_POLICY,
  options: { overlapCoverage?: number; params?: ReputationParams; failedChecks?: number } = {},
): TrustTrajectory {
  const params = options.params ?? DEFAULT_REPUTATION_PARAMS;
  const kappa = options.overlapCoverage ?? 1;
  const failedChecks = options.failedChecks ?? 0;
  const needed = evidenceForScore(targetScore, failedChecks, params);
  const h = halfTrustFor({ ...newReputation(), failedChecks }, params);
  let verified = 0;
  let overlaps = 0;
  let tiles = 0;
  const evidence = () => verified + params.overlapWeight * overlaps;
  while (evidence() < needed) {
    const e = evidence();
    const score = e / (e + h);
    verified += checkRate(score, policy) + ringerRate(score, policy);
    overlaps += kappa;
    tiles++;
    if (tiles > 1e8) throw new RangeError('trust is out of reach under this policy');
  }
  return { tiles, verifiedTiles: verified, overlapAgreements: overlaps };
}
