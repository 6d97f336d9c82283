// The sampling policy, reputation and detection maths: pure functions, no I/O.
export { bernoulli, cryptoRng, randomInt, type Rng, seededRng } from './rng';
export {
  coreRegion,
  type CrossCheckedEdges,
  type Edge,
  EDGES,
  gridTiles,
  interiorRegion,
  isWithin,
  overlapCoverage,
  regionArea,
  regionRelativeTo,
  regionsIntersect,
  type TileAssignment,
  type TileGeometry,
} from './geometry';
export {
  axisHitLowerBound,
  axisHitProbability,
  clampCropStart,
  cropHitLowerBound,
  cropHitProbability,
  type CropShape,
  cropSize,
  type FakeExtent,
  partialFakeDetection,
  type PixelSize,
  placeCropAxis,
} from './crop';
export {
  decayReputation,
  DEFAULT_REPUTATION_PARAMS,
  evidenceForScore,
  halfTrustFor,
  newReputation,
  type ReputationEvent,
  type ReputationParams,
  replayReputation,
  reputationScore,
  type ReputationState,
  TRUSTED_SCORE,
  trustEvidence,
  updateReputation,
} from './reputation';
export {
  checkRate,
  type CropPlan,
  DEFAULT_POLICY,
  newNodeCheckRate,
  planCropCheck,
  POLICIES,
  POLICY_STRENGTHS,
  policyFor,
  type PolicyStrength,
  ringerRate,
  samplingReputation,
  shouldCheckTile,
  shouldIssueRinger,
  validatePolicy,
  type VerificationPolicy,
} from './sampling';
export {
  type Cheat,
  checkRateForDetection,
  detectionProbability,
  type DetectionParams,
  fakedTilesFor,
  jobDetectionProbability,
  type JobScenario,
  perCheckDetection,
} from './detection';
export {
  bestCheatingStrategy,
  type CheatingEconomics,
  type CheatingOutcome,
  DEFAULT_ECONOMICS,
  expectedValueOfCheating,
  minimumStake,
  type WorstCheat,
} from './economics';
export { DEFAULT_MISMATCH_RATE, type VerificationCost, verificationCost } from './cost';
export { expectedTilesToTrust, type TrustTrajectory } from './trust-curve';
export { fakedRegion, type JobSimulation, simulateJob, simulateJobDetection } from './simulate';
