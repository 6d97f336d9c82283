import { partialFakeDetection } from './crop';
import {
  Cheat,
  checkRateForDetection,
  detectionProbability,
  fakedTilesFor,
  jobDetectionProbability,
  perCheckDetection,
} from './detection';
import { gridTiles } from './geometry';
import { TRUSTED_SCORE } from './reputation';
import { seededRng } from './rng';
import { checkRate, DEFAULT_POLICY, newNodeCheckRate, POLICIES, ringerRate } from './sampling';
import { simulateJobDetection } from './simulate';

describe('detectionProbability', () => {
  it('is 1 - [(1 - kappa)(1 - c d)]^K (1 - rho K / N)^N', () => {
    expect(detectionProbability({ tiles: 100, fakedTiles: 5, checkRate: 0.2 })).toBeCloseTo(
      1 - 0.8 ** 5,
      12,
    );
    expect(
      detectionProbability({
        tiles: 40,
        fakedTiles: 4,
        checkRate: 0.3,
        perCheckDetection: 0.5,
        overlapCoverage: 0.25,
        ringerRate: 0.05,
      }),
    ).toBeCloseTo(1 - (0.75 * 0.85) ** 4 * (1 - 0.005) ** 40, 12);
  });

  it('is 0 without fakes, 1 when every fake is checked, exposed by an overlap, or every lease is a faked ringer', () => {
    expect(detectionProbability({ tiles: 10, fakedTiles: 0, checkRate: 1 })).toBe(0);
    expect(detectionProbability({ tiles: 10, fakedTiles: 1, checkRate: 1 })).toBe(1);
    expect(
      detectionProbability({ tiles: 10, fakedTiles: 1, checkRate: 0, overlapCoverage: 1 }),
    ).toBe(1);
    expect(detectionProbability({ tiles: 10, fakedTiles: 10, checkRate: 0, ringerRate: 1 })).toBe(
      1,
    );
  });

  it('grows with K, c, d, kappa and rho', () => {
    const base = {
      tiles: 50,
      fakedTiles: 3,
      checkRate: 0.1,
      perCheckDetection: 0.5,
      overlapCoverage: 0.2,
      ringerRate: 0.02,
    };
    const p = detectionProbability(base);
    expect(detectionProbability({ ...base, fakedTiles: 4 })).toBeGreaterThan(p);
    expect(detectionProbability({ ...base, checkRate: 0.2 })).toBeGreaterThan(p);
    expect(detectionProbability({ ...base, perCheckDetection: 0.6 })).toBeGreaterThan(p);
    expect(detectionProbability({ ...base, overlapCoverage: 0.3 })).toBeGreaterThan(p);
    expect(detectionProbability({ ...base, ringerRate: 0.03 })).toBeGreaterThan(p);
  });

  it('refuses impossible inputs', () => {
    expect(() => detectionProbability({ tiles: 5, fakedTiles: 6, checkRate: 0.1 })).toThrow(
      RangeError,
    );
    expect(() => detectionProbability({ tiles: 5, fakedTiles: 1, checkRate: 1.1 })).toThrow(
      RangeError,
    );
    expect(() =>
      detectionProbability({ tiles: 5, fakedTiles: 1, checkRate: 0.1, overlapCoverage: -1 }),
    ).toThrow(RangeError);
    expect(() => detectionProbability({ tiles: 5.5, fakedTiles: 1, checkRate: 0.1 })).toThrow(
      RangeError,
    );
  });
});

describe('perCheckDetection and helpers', () => {
  it('is 1 for whole-tile and margin-aware fakes, the crop bound for patches', () => {
    expect(perCheckDetection({ kind: 'whole-tile' })).toBe(1);
    expect(perCheckDetection({ kind: 'margin-aware' })).toBe(1);
    expect(perCheckDetection({ kind: 'partial', fake: 0.1 })).toBe(partialFakeDetection(0.1, 0.25));
    expect(perCheckDetection({ kind: 'partial', fake: 0.1 }, POLICIES.paranoid)).toBe(
      partialFakeDetection(0.1, 0.25, 2),
    );
  });

  it('counts faked tiles as round(qN), at least one', () => {
    expect(fakedTilesFor(100, 0.05)).toBe(5);
    expect(fakedTilesFor(10, 0.05)).toBe(1);
    expect(fakedTilesFor(10, 0)).toBe(0);
    expect(fakedTilesFor(1000, 0.05)).toBe(50);
  });

  it('inverts the detection formula for the check rate', () => {
    expect(checkRateForDetection(0.99, 5)).toBeCloseTo(newNodeCheckRate(), 12);
    const c = checkRateForDetection(0.9, 10, 0.5);
    expect(
      detectionProbability({ tiles: 10, fakedTiles: 10, checkRate: c, perCheckDetection: 0.5 }),
    ).toBeCloseTo(0.9, 12);
    expect(checkRateForDetection(0.99, 1, 0.5)).toBe(Infinity);
  });
});

describe('the closed form against a brute-force Monte Carlo of jobs', () => {
  const geometry = gridTiles(640, 360, 4, 4, 8);
  const trials = 6000;
  const cases: {
    name: string;
    reputation: number;
    tiles: number;
    fakedTiles: number;
    cheat: Cheat;
    kappa?: number;
  }[] = [
    {
      name: 'margin-aware, new node',
      reputation: 0,
      tiles: 20,
      fakedTiles: 1,
      cheat: { kind: 'margin-aware' },
    },
    {
      name: 'margin-aware, half trust',
      reputation: 0.5,
      tiles: 40,
      fakedTiles: 2,
      cheat: { kind: 'margin-aware' },
    },
    {
      name: 'margin-aware, trusted, ringers matter',
      reputation: 0.9,
      tiles: 60,
      fakedTiles: 30,
      cheat: { kind: 'margin-aware' },
    },
    {
      name: 'whole tile, trusted, half the tiles cross-checked',
      reputation: 1,
      tiles: 30,
      fakedTiles: 2,
      cheat: { kind: 'whole-tile' },
      kappa: 0.5,
    },
  ];

  it.each(cases)('$name', ({ reputation, tiles, fakedTiles, cheat, kappa }) => {
    const expected = jobDetectionProbability(DEFAULT_POLICY, reputation, {
      tiles,
      fakedTiles,
      cheat,
      overlapCoverage: kappa,
    });
    const simulated = simulateJobDetection({
      policy: DEFAULT_POLICY,
      reputation,
      tiles,
      fakedTiles,
      cheat,
      overlapCoverage: kappa,
      geometry,
      trials,
      rng: seededRng(tiles * 31 + fakedTiles),
    });
    const sigma = Math.sqrt((expected * (1 - expected)) / trials);
    expect(Math.abs(simulated - expected)).toBeLessThan(4.5 * sigma + 1e-3);
  });

  it('the partial-fake formula is a lower bound on simulated patches at random positions', () => {
    for (const fake of [0.01, 0.1, 0.3]) {
      const cheat: Cheat = { kind: 'partial', fake };
      const scenario = { tiles: 20, fakedTiles: 2, cheat };
      const bound = jobDetectionProbability(DEFAULT_POLICY, 0, scenario);
      const simulated = simulateJobDetection({
        policy: DEFAULT_POLICY,
        reputation: 0,
        ...scenario,
        geometry,
        trials,
        rng: seededRng(Math.round(fake * 1000)),
      });
      const sigma = Math.sqrt((bound * (1 - bound)) / trials);
      expect(simulated).toBeGreaterThan(bound - 4.5 * sigma);
      // and a crop check catches patches far less often than whole interiors
      expect(simulated).toBeLessThan(
        jobDetectionProbability(DEFAULT_POLICY, 0, {
          ...scenario,
          cheat: { kind: 'margin-aware' },
        }),
      );
    }
  });
});

describe('the default policy meets the detection targets', () => {
  // a node faking 5% of its tiles in a job
  const shares = [100, 101, 120, 150, 200, 500, 1000, 5000];

  it('catches a new node faking tile interiors (margin-aware) in >= 99% of jobs of 100+ tiles', () => {
    for (const tiles of shares) {
      const p = jobDetectionProbability(DEFAULT_POLICY, 0, {
        tiles,
        fakedTiles: fakedTilesFor(tiles, 0.05),
        cheat: { kind: 'margin-aware' },
      });
      expect(p).toBeGreaterThanOrEqual(0.99);
    }
    expect(
      jobDetectionProbability(DEFAULT_POLICY, 0, {
        tiles: 100,
        fakedTiles: 5,
        cheat: { kind: 'margin-aware' },
      }),
    ).toBeCloseTo(0.9922, 4);
  });

  it('catches whole-tile fakes in >= 99% of jobs at any reputation once 60% of tiles are cross-checked', () => {
    for (let r = 0; r <= 1; r += 0.05) {
      for (const tiles of shares) {
        for (const kappa of [0.6, 0.8, 1]) {
          const p = jobDetectionProbability(DEFAULT_POLICY, Math.min(r, 1), {
            tiles,
            fakedTiles: fakedTilesFor(tiles, 0.05),
            cheat: { kind: 'whole-tile' },
            overlapCoverage: kappa,
          });
          expect(p).toBeGreaterThanOrEqual(0.99);
        }
      }
    }
  });

  it('gives a trusted node a per-job detection rate of 38% (score 0.9) and 14% (score 1) at 5 of 100 tiles', () => {
    const scenario = { tiles: 100, fakedTiles: 5, cheat: { kind: 'margin-aware' } as Cheat };
    expect(checkRate(TRUSTED_SCORE)).toBeCloseTo(0.0782, 4);
    expect(ringerRate(TRUSTED_SCORE)).toBeCloseTo(0.014, 12);
    expect(jobDetectionProbability(DEFAULT_POLICY, TRUSTED_SCORE, scenario)).toBeCloseTo(0.3794, 4);
    expect(jobDetectionProbability(DEFAULT_POLICY, 1, scenario)).toBeCloseTo(0.1402, 4);
    expect(
      jobDetectionProbability(DEFAULT_POLICY, TRUSTED_SCORE, {
        ...scenario,
        tiles: 1000,
        fakedTiles: 50,
      }),
    ).toBeGreaterThan(0.99);
  });
});
