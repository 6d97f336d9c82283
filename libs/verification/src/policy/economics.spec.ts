import { jobDetectionProbability } from './detection';
import {
  bestCheatingStrategy,
  DEFAULT_ECONOMICS,
  expectedValueOfCheating,
  minimumStake,
} from './economics';
import { TRUSTED_SCORE } from './reputation';
import { DEFAULT_POLICY, POLICIES, POLICY_STRENGTHS } from './sampling';

describe('expectedValueOfCheating', () => {
  it('is K g - P (S + N r + L) against honest work', () => {
    const out = expectedValueOfCheating({
      tiles: 10,
      fakedTiles: 2,
      detectionProbability: 0.25,
      rewardPerTile: 3,
      gainPerFakedTile: 2,
      stake: 40,
      reputationValue: 6,
    });
    expect(out).toEqual({
      detectionProbability: 0.25,
      gainIfUndetected: 4,
      lossIfDetected: 40 + 30 + 6 - 4,
      expectedValue: 4 - 0.25 * 76,
    });
    // the gain defaults to the whole reward (the render cost is all the cheater saves, at most r)
    expect(
      expectedValueOfCheating({
        tiles: 1,
        fakedTiles: 1,
        detectionProbability: 0,
        rewardPerTile: 2,
        stake: 1,
      }).expectedValue,
    ).toBe(2);
  });

  it('refuses negative money and impossible probabilities', () => {
    const base = { tiles: 1, fakedTiles: 1, detectionProbability: 0.5, rewardPerTile: 1, stake: 1 };
    expect(() => expectedValueOfCheating({ ...base, stake: -1 })).toThrow(RangeError);
    expect(() => expectedValueOfCheating({ ...base, detectionProbability: 2 })).toThrow(RangeError);
  });
});

describe('cheating does not pay at the default stake and sampling', () => {
  const shares = [1, 2, 3, 5, 10, 20, 50, 100, 300];

  it('has negative EV for every K, share of a job and reputation', () => {
    for (let r = 0; r <= 1.000001; r += 0.1) {
      for (const tiles of shares) {
        const best = bestCheatingStrategy(DEFAULT_POLICY, Math.min(r, 1), tiles);
        if (best.expectedValue >= 0)
          throw new Error(`EV ${best.expectedValue} >= 0 at score ${r}, N=${tiles}`);
      }
    }
  });

  it('pins the trusted-node numbers: 5 of 100 tiles and the worst case, one tile', () => {
    const p = jobDetectionProbability(DEFAULT_POLICY, TRUSTED_SCORE, {
      tiles: 100,
      fakedTiles: 5,
      cheat: { kind: 'margin-aware' },
    });
    const five = expectedValueOfCheating({
      ...DEFAULT_ECONOMICS,
      tiles: 100,
      fakedTiles: 5,
      detectionProbability: p,
    });
    expect(five.expectedValue).toBeCloseTo(5 - 0.3794 * 200, 1);
    const one = bestCheatingStrategy(DEFAULT_POLICY, 1, 1);
    expect(one.detectionProbability).toBeCloseTo(1 - 0.98 * 0.99, 12);
    expect(one.expectedValue).toBeCloseTo(1 - 0.0298 * 101, 9);
  });

  it('puts the break-even stake well below the default of 100 tile rewards', () => {
    expect(minimumStake(DEFAULT_POLICY, 1, 1)).toBeCloseTo(1 / 0.0298 - 1, 9); // 32.6
    expect(minimumStake(DEFAULT_POLICY, TRUSTED_SCORE, 1)).toBeLessThan(11);
    expect(minimumStake(DEFAULT_POLICY, 0, 100)).toBe(0);
    for (const s of POLICY_STRENGTHS)
      expect(minimumStake(POLICIES[s], 1, 1)).toBeLessThan(DEFAULT_ECONOMICS.stake);
    // at exactly the break-even stake the best strategy is worth nothing
    const stake = minimumStake(DEFAULT_POLICY, 1, 5);
    expect(
      bestCheatingStrategy(DEFAULT_POLICY, 1, 5, { ...DEFAULT_ECONOMICS, stake }).expectedValue,
    ).toBeCloseTo(0, 9);
  });

  it('picks K = 1 or K = N: EV is convex in K', () => {
    for (const r of [0, 0.5, 0.9, 1]) {
      for (const tiles of [10, 100]) {
        expect([1, tiles]).toContain(bestCheatingStrategy(DEFAULT_POLICY, r, tiles).fakedTiles);
      }
    }
  });

  it('makes partial fakes no better: per unit of gain they are detected at least as often', () => {
    for (const fake of [0.01, 0.1, 0.5]) {
      for (const r of [0, 0.9, 1]) {
        const best = bestCheatingStrategy(
          DEFAULT_POLICY,
          r,
          10,
          { ...DEFAULT_ECONOMICS, gainPerFakedTile: fake },
          { kind: 'partial', fake },
        );
        expect(best.expectedValue).toBeLessThan(0);
      }
    }
  });
});
