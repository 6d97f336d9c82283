// A node's trust, as plain data and pure updates. Trust is earned from evidence that a margin-aware
// cheat cannot fake (secret checks its tiles passed) and lost at once on a verdict against the node.
//
//   evidence E = verifiedTiles + overlapWeight * overlapAgreements
//   score      = E / (E + H),   H = halfTrustEvidence * failurePenalty ^ failedChecks
//
// With the defaults a new node has score 0, reaches 0.5 after 50 verified tiles and 0.9
// ("trusted") after 450; one failed check resets its evidence to zero and doubles what it must
// earn again. Evidence optionally decays with a half-life, so an idle account (sold, hijacked,
// re-imaged) has to re-earn part of its trust.

export interface ReputationState {
  /** tiles that passed a secret check: a crop re-render agreed, a ringer matched, an arbitration upheld its result (fractional after decay) */
  verifiedTiles: number;
  /** tiles whose overlap strips agreed with a different node's (weak: a margin-aware cheat passes them) */
  overlapAgreements: number;
  /** verdicts against the node: a failed ringer or a lost arbitration (never decays) */
  failedChecks: number;
  /** ms since the epoch of the last verdict against the node */
  lastFailureAt?: number;
  /** ms since the epoch of the last update, the reference point of decay */
  updatedAt?: number;
}

export interface ReputationParams {
  /** evidence at which a node with no failures has score 0.5 */
  halfTrustEvidence: number;
  /** evidence per agreed overlap, relative to one secret check passed */
  overlapWeight: number;
  /** each failed check multiplies the evidence needed for the same score by this */
  failurePenalty: number;
  /** cap on the number of failures the penalty counts */
  maxPenalizedFailures: number;
  /** half-life of evidence in ms; 0 turns decay off */
  decayHalfLifeMs: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export const DEFAULT_REPUTATION_PARAMS: Readonly<ReputationParams> = Object.freeze({
  halfTrustEvidence: 50,
  overlapWeight: 0.02,
  failurePenalty: 2,
  maxPenalizedFailures: 10,
  decayHalfLifeMs: 180 * DAY_MS,
});

/** The score from which a node counts as trusted (cost and detection tables use it). */
export const TRUSTED_SCORE = 0.9;

export type ReputationEvent =
  /** secret checks passed: crop re-render agreed, ringer matched, or an arbitration upheld the node */
  | { kind: 'check-passed'; tiles?: number; at?: number }
  /** overlap strips agreed with a neighbour rendered by a different node */
  | { kind: 'overlap-agreed'; tiles?: number; at?: number }
  /** a verdict against the node (failed a ringer, lost an arbitration): trust drops to zero */
  | { kind: 'check-failed'; at?: number };

/** A node that has never been checked. */
export function newReputation(at?: number): ReputationState {
  return {
    verifiedTiles: 0,
    overlapAgreements: 0,
    failedChecks: 0,
    ...(at === undefined ? {} : { updatedAt: at }),
  };
}

function assertParams(p: ReputationParams): void {
  if (!(p.halfTrustEvidence > 0) || !Number.isFinite(p.halfTrustEvidence)) {
    throw new RangeError('halfTrustEvidence must be a positive number');
  }
  if (!(p.overlapWeight >= 0 && p.overlapWeight <= 1)) {
    throw new RangeError('overlapWeight must be in [0, 1]');
  }
  if (!(p.failurePenalty >= 1) || !Number.isFinite(p.failurePenalty)) {
    throw new RangeError('failurePenalty must be at least 1');
  }
  if (!Number.isInteger(p.maxPenalizedFailures) || p.maxPenalizedFailures < 0) {
    throw new RangeError('maxPenalizedFailures must be a non-negative integer');
  }
  if (!(p.decayHalfLifeMs >= 0)) throw new RangeError('decayHalfLifeMs must be 0 or more');
}

/** Evidence of honest work: secret checks passed plus weighted overlap agreements. */
export function trustEvidence(
  state: ReputationState,
  params: ReputationParams = DEFAULT_REPUTATION_PARAMS,
): number {
  return state.verifiedTiles + params.overlapWeight * state.overlapAgreements;
}

/** Evidence at which this node's score is 0.5: grows with every failed check. */
export function halfTrustFor(
  state: ReputationState,
  params: ReputationParams = DEFAULT_REPUTATION_PARAMS,
): number {
  const failures = Math.min(state.failedChecks, params.maxPenalizedFailures);
  return params.halfTrustEvidence * params.failurePenalty ** failures;
}

/**
 * Evidence decayed to `now` (ms): multiplied by 0.5 per half-life elapsed since `updatedAt`.
 * Failures never decay. A state without `updatedAt` is stamped, not decayed; time never runs back.
 */
export function decayReputation(
  state: ReputationState,
  now: number,
  params: ReputationParams = DEFAULT_REPUTATION_PARAMS,
): ReputationState {
  if (!Number.isFinite(now)) throw new RangeError('now must be a finite time in ms');
  if (state.updatedAt === undefined || params.decayHalfLifeMs === 0 || now <= state.updatedAt) {
    return { ...state, updatedAt: Math.max(now, state.updatedAt ?? now) };
  }
  const factor = 0.5 ** ((now - state.updatedAt) / params.decayHalfLifeMs);
  return {
    ...state,
    verifiedTiles: state.verifiedTiles * factor,
    overlapAgreements: state.overlapAgreements * factor,
    updatedAt: now,
  };
}

/** The node's trust in [0, 1]: 0 for a new node or right after a failed check. */
export function reputationScore(
  state: ReputationState,
  params: ReputationParams = DEFAULT_REPUTATION_PARAMS,
  now?: number,
): number {
  assertParams(params);
  const current = now === undefined ? state : decayReputation(state, now, params);
  const evidence = trustEvidence(current, params);
  return evidence / (evidence + halfTrustFor(current, params));
}

/** Evidence a node with `failedChecks` failures needs for `score` (e.g. 450 for 0.9 and none). */
export function evidenceForScore(
  score: number,
  failedChecks = 0,
  params: ReputationParams = DEFAULT_REPUTATION_PARAMS,
): number {
  if (!(score >= 0 && score < 1)) throw new RangeError('score must be in [0, 1)');
  const h = halfTrustFor({ verifiedTiles: 0, overlapAgreements: 0, failedChecks }, params);
  return (h * score) / (1 - score);
}

function count(tiles: number | undefined): number {
  const n = tiles ?? 1;
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`tiles must be a number >= 0, got ${n}`);
  return n;
}

/** The state after `event`; decays to `event.at` first when the event carries a time. */
export function updateReputation(
  state: ReputationState,
  event: ReputationEvent,
  params: ReputationParams = DEFAULT_REPUTATION_PARAMS,
): ReputationState {
  assertParams(params);
  const current = event.at === undefined ? state : decayReputation(state, event.at, params);
  switch (event.kind) {
    case 'check-passed':
      return { ...current, verifiedTiles: current.verifiedTiles + count(event.tiles) };
    case 'overlap-agreed':
      return { ...current, overlapAgreements: current.overlapAgreements + count(event.tiles) };
    case 'check-failed':
      return {
        ...current,
        verifiedTiles: 0,
        overlapAgreements: 0,
        failedChecks: current.failedChecks + 1,
        ...(event.at === undefined ? {} : { lastFailureAt: event.at }),
      };
  }
}

/** Applies events in order. */
export function replayReputation(
  events: readonly ReputationEvent[],
  initial: ReputationState = newReputation(),
  params: ReputationParams = DEFAULT_REPUTATION_PARAMS,
): ReputationState {
  return events.reduce((state, event) => updateReputation(state, event, params), initial);
}
