import {
  decayReputation,
  DEFAULT_REPUTATION_PARAMS,
  evidenceForScore,
  newReputation,
  replayReputation,
  reputationScore,
  ReputationState,
  TRUSTED_SCORE,
  trustEvidence,
  updateReputation,
} from './reputation';

const DAY = 24 * 60 * 60 * 1000;
const passed = (tiles = 1, at?: number) => ({ kind: 'check-passed' as const, tiles, at });

describe('reputationScore', () => {
  it('is 0 for a new node and E / (E + 50) with no failures', () => {
    expect(reputationScore(newReputation())).toBe(0);
    const s = updateReputation(newReputation(), passed(50));
    expect(reputationScore(s)).toBe(0.5);
    expect(reputationScore({ ...s, verifiedTiles: 150 })).toBe(0.75);
  });

  it('counts an agreed overlap as 1/50 of a passed secret check', () => {
    const s = updateReputation(newReputation(), { kind: 'overlap-agreed', tiles: 2500 });
    expect(trustEvidence(s)).toBe(50);
    expect(reputationScore(s)).toBe(0.5);
  });

  it('stays in [0, 1) and rises with every passed check', () => {
    let s = newReputation();
    let previous = -1;
    let violations = 0;
    for (let i = 0; i < 5000; i++) {
      s = updateReputation(s, passed());
      const r = reputationScore(s);
      if (!(r > previous && r < 1)) violations++;
      previous = r;
    }
    expect(violations).toBe(0);
  });
});

describe('slow to earn', () => {
  it('needs hundreds of verified tiles to be trusted', () => {
    expect(TRUSTED_SCORE).toBe(0.9);
    expect(evidenceForScore(TRUSTED_SCORE)).toBeCloseTo(450, 9);
    expect(reputationScore({ ...newReputation(), verifiedTiles: 449 })).toBeLessThan(TRUSTED_SCORE);
    expect(reputationScore({ ...newReputation(), verifiedTiles: 450 })).toBeCloseTo(
      TRUSTED_SCORE,
      12,
    );
    expect(reputationScore({ ...newReputation(), verifiedTiles: 100 })).toBeCloseTo(2 / 3, 12);
  });

  it('cannot be earned on overlaps alone in any reasonable time', () => {
    // a margin-aware cheat passes every overlap; trust from overlaps only needs 22,500 of them
    const onlyOverlaps = { ...newReputation(), overlapAgreements: 22_499 };
    expect(reputationScore(onlyOverlaps)).toBeLessThan(TRUSTED_SCORE);
  });
});

describe('fast to lose', () => {
  const trusted: ReputationState = {
    ...newReputation(),
    verifiedTiles: 2000,
    overlapAgreements: 5000,
  };

  it('drops a trusted node to zero trust on one failed check', () => {
    expect(reputationScore(trusted)).toBeGreaterThan(0.97);
    const after = updateReputation(trusted, { kind: 'check-failed', at: 1_000 });
    expect(reputationScore(after)).toBe(0);
    expect(after).toMatchObject({
      verifiedTiles: 0,
      overlapAgreements: 0,
      failedChecks: 1,
      lastFailureAt: 1_000,
    });
  });

  it('makes trust twice as slow to earn back per failure, up to the cap', () => {
    expect(evidenceForScore(TRUSTED_SCORE, 1)).toBeCloseTo(900, 9);
    expect(evidenceForScore(TRUSTED_SCORE, 3)).toBeCloseTo(3600, 9);
    expect(evidenceForScore(0.5, 50)).toBe(
      evidenceForScore(0.5, DEFAULT_REPUTATION_PARAMS.maxPenalizedFailures),
    );
    const again = replayReputation([{ kind: 'check-failed' }, passed(450)], trusted);
    expect(reputationScore(again)).toBeCloseTo(450 / (450 + 100), 12);
  });

  it('does not mutate the state it is given', () => {
    const copy = structuredClone(trusted);
    updateReputation(trusted, { kind: 'check-failed' });
    updateReputation(trusted, passed(10));
    expect(trusted).toEqual(copy);
  });
});

describe('decay', () => {
  it('halves evidence per half-life (180 days), never failures', () => {
    const s: ReputationState = {
      verifiedTiles: 400,
      overlapAgreements: 1000,
      failedChecks: 2,
      updatedAt: 0,
    };
    const later = decayReputation(s, 180 * DAY);
    expect(later).toEqual({
      verifiedTiles: 200,
      overlapAgreements: 500,
      failedChecks: 2,
      updatedAt: 180 * DAY,
    });
    expect(reputationScore(s, DEFAULT_REPUTATION_PARAMS, 360 * DAY)).toBeCloseTo(
      (100 + 0.02 * 250) / (100 + 0.02 * 250 + 200),
      12,
    );
  });

  it('decays to the time of a timed event before applying it', () => {
    const s = replayReputation([passed(100, 0), passed(100, 180 * DAY)]);
    expect(s.verifiedTiles).toBeCloseTo(150, 9);
    expect(s.updatedAt).toBe(180 * DAY);
  });

  it('stamps an unstamped state, never runs time back, and can be turned off', () => {
    expect(decayReputation(newReputation(), 5)).toEqual({ ...newReputation(), updatedAt: 5 });
    const s = { ...newReputation(), verifiedTiles: 10, updatedAt: 100 };
    expect(decayReputation(s, 50)).toEqual(s);
    const off = { ...DEFAULT_REPUTATION_PARAMS, decayHalfLifeMs: 0 };
    expect(decayReputation(s, 1e12, off).verifiedTiles).toBe(10);
  });
});

describe('validation', () => {
  it('refuses negative or non-finite tile counts and bad parameters', () => {
    expect(() => updateReputation(newReputation(), passed(-1))).toThrow(RangeError);
    expect(() => updateReputation(newReputation(), passed(Infinity))).toThrow(RangeError);
    expect(() =>
      reputationScore(newReputation(), { ...DEFAULT_REPUTATION_PARAMS, halfTrustEvidence: 0 }),
    ).toThrow(RangeError);
    expect(() =>
      reputationScore(newReputation(), { ...DEFAULT_REPUTATION_PARAMS, failurePenalty: 0.5 }),
    ).toThrow(RangeError);
    expect(() => evidenceForScore(1)).toThrow(RangeError);
  });
});
