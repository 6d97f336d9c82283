import { coreRegion, gridTiles, interiorRegion, isWithin } from './geometry';
import { cryptoRng, randomInt, seededRng } from './rng';
import {
  checkRate,
  DEFAULT_POLICY,
  newNodeCheckRate,
  planCropCheck,
  POLICIES,
  POLICY_STRENGTHS,
  policyFor,
  ringerRate,
  samplingReputation,
  shouldCheckTile,
  shouldIssueRinger,
  validatePolicy,
} from './sampling';

const scores = Array.from({ length: 101 }, (_, i) => i / 100);

describe('policies', () => {
  it('has valid named strengths, standard being the default', () => {
    for (const s of POLICY_STRENGTHS) expect(() => validatePolicy(POLICIES[s])).not.toThrow();
    expect(DEFAULT_POLICY).toBe(POLICIES.standard);
    expect(policyFor()).toEqual(POLICIES.standard);
    expect(policyFor('paranoid', { cropsPerCheck: 3 }).cropsPerCheck).toBe(3);
  });

  it('refuses out-of-range fields', () => {
    expect(() => policyFor('standard', { targetDetection: 1 })).toThrow(/targetDetection/);
    expect(() => policyFor('standard', { minCheckRate: 0.5, maxCheckRate: 0.4 })).toThrow(
      /maxCheckRate/,
    );
    expect(() => policyFor('standard', { cropFraction: 0 })).toThrow(/cropFraction/);
    expect(() => policyFor('standard', { cropsPerCheck: 0 })).toThrow(/cropsPerCheck/);
    expect(() => policyFor('standard', { ringerRateTrusted: 0.5 })).toThrow(/ringerRateTrusted/);
    expect(() => policyFor('nonsense' as never)).toThrow(RangeError);
  });

  it('gets stronger from light to paranoid', () => {
    const [light, standard, paranoid] = POLICY_STRENGTHS.map((s) => POLICIES[s]);
    for (const r of scores) {
      expect(checkRate(r, light)).toBeLessThan(checkRate(r, standard));
      expect(checkRate(r, standard)).toBeLessThan(checkRate(r, paranoid));
    }
  });
});

describe('checkRate', () => {
  it('starts at the rate that catches 5 faked interiors 99% of the time', () => {
    expect(newNodeCheckRate()).toBeCloseTo(1 - 0.01 ** 0.2, 12);
    expect(newNodeCheckRate()).toBeCloseTo(0.6019, 4);
    expect(1 - (1 - newNodeCheckRate()) ** 5).toBeCloseTo(0.99, 12);
    expect(checkRate(0)).toBe(newNodeCheckRate());
    expect(newNodeCheckRate(POLICIES.light)).toBeCloseTo(1 - 0.05 ** 0.2, 12);
    expect(newNodeCheckRate(POLICIES.paranoid)).toBeCloseTo(1 - 0.001 ** 0.2, 12);
  });

  it('falls with reputation, linearly, down to the floor and never below it', () => {
    for (const strength of POLICY_STRENGTHS) {
      const policy = POLICIES[strength];
      let previous = Infinity;
      for (const r of scores) {
        const c = checkRate(r, policy);
        expect(c).toBeLessThan(previous);
        expect(c).toBeGreaterThanOrEqual(policy.minCheckRate);
        expect(c).toBeLessThanOrEqual(policy.maxCheckRate);
        previous = c;
      }
      expect(checkRate(1, policy)).toBe(policy.minCheckRate);
    }
    expect(checkRate(0.9)).toBeCloseTo(0.02 + 0.1 * (0.6019 - 0.02), 4);
  });

  it('is capped by maxCheckRate and lifted to minCheckRate', () => {
    expect(newNodeCheckRate(policyFor('standard', { maxCheckRate: 0.3 }))).toBe(0.3);
    expect(
      newNodeCheckRate(policyFor('standard', { targetDetection: 0.01, minCheckRate: 0.05 })),
    ).toBe(0.05);
  });

  it('refuses a reputation outside [0, 1]', () => {
    expect(() => checkRate(-0.1)).toThrow(RangeError);
    expect(() => checkRate(1.1)).toThrow(RangeError);
    expect(() => ringerRate(NaN)).toThrow(RangeError);
  });
});

describe('samplingReputation', () => {
  it('keeps the score from the start of the job unless the node has fallen since', () => {
    expect(samplingReputation(0, 0.6)).toBe(0);
    expect(samplingReputation(0.9, 0)).toBe(0);
    expect(samplingReputation(0.9, 0.95)).toBe(0.9);
    expect(() => samplingReputation(2, 0)).toThrow(RangeError);
  });
});

describe('ringerRate', () => {
  it('falls from ringerRateNew to ringerRateTrusted', () => {
    expect(ringerRate(0)).toBe(0.05);
    expect(ringerRate(1)).toBe(0.01);
    expect(ringerRate(0.5)).toBeCloseTo(0.03, 12);
    let previous = Infinity;
    for (const r of scores) {
      expect(ringerRate(r)).toBeLessThan(previous);
      previous = ringerRate(r);
    }
  });
});

describe('shouldCheckTile and shouldIssueRinger', () => {
  it('say yes at the policy rates', () => {
    const rng = seededRng(5);
    const n = 50_000;
    for (const r of [0, 0.5, 0.9]) {
      let checks = 0;
      let ringers = 0;
      for (let i = 0; i < n; i++) {
        if (shouldCheckTile(r, rng)) checks++;
        if (shouldIssueRinger(r, rng)) ringers++;
      }
      const c = checkRate(r);
      const rho = ringerRate(r);
      expect(Math.abs(checks / n - c)).toBeLessThan(4.5 * Math.sqrt((c * (1 - c)) / n));
      expect(Math.abs(ringers / n - rho)).toBeLessThan(4.5 * Math.sqrt((rho * (1 - rho)) / n));
    }
  });
});

describe('planCropCheck', () => {
  const frames = [
    gridTiles(640, 360, 4, 4, 8),
    gridTiles(1920, 1080, 8, 8, 16),
    gridTiles(97, 61, 3, 2, 5),
    gridTiles(64, 64, 1, 1, 8),
    gridTiles(40, 40, 4, 4, 4), // 10 px cores: the bands leave 2 px interiors
  ];

  it('always puts every crop inside the interior, hence inside the core', () => {
    const rng = seededRng(99);
    for (const strength of POLICY_STRENGTHS) {
      for (const tiles of frames) {
        for (const tile of tiles) {
          const core = coreRegion(tile.region, tile.margins);
          const interior = interiorRegion(tile.region, tile.margins);
          for (let i = 0; i < 100; i++) {
            const plan = planCropCheck(tile.region, tile.margins, rng, POLICIES[strength]);
            if (plan.crops.length !== POLICIES[strength].cropsPerCheck)
              throw new Error('crop count');
            for (const crop of plan.crops) {
              if (!isWithin(crop, interior)) throw new Error('interior differs');
              if (!isWithin(crop, plan.interior) || !isWithin(crop, core)) {
                throw new Error(
                  `crop ${JSON.stringify(crop)} escapes ${JSON.stringify(plan.interior)}`,
                );
              }
            }
          }
        }
      }
    }
  });

  it("has the policy's size: half of each interior side for the standard policy", () => {
    const tile = gridTiles(640, 360, 4, 4, 8)[5];
    const plan = planCropCheck(tile.region, tile.margins, seededRng(1));
    expect(plan.interior).toEqual({ x: 168, y: 98, width: 144, height: 74 });
    expect(plan.crops[0]).toMatchObject({ width: 72, height: 37 });
  });

  it('is deterministic for a seed and varies between seeds', () => {
    const tile = gridTiles(1920, 1080, 4, 4, 8)[6];
    const plans = (seed: number) => {
      const rng = seededRng(seed);
      return Array.from({ length: 20 }, () => planCropCheck(tile.region, tile.margins, rng));
    };
    expect(plans(1234)).toEqual(plans(1234));
    expect(plans(1234)).not.toEqual(plans(4321));
  });

  it('reaches every interior pixel, the corners included', () => {
    const tile = gridTiles(160, 160, 2, 2, 8)[0]; // interior 72x72 at the frame corner
    const rng = cryptoRng();
    const plans = Array.from({ length: 2000 }, () => planCropCheck(tile.region, tile.margins, rng));
    const covers = (x: number, y: number) =>
      plans.filter(
        ({ crops: [c] }) => c.x <= x && x < c.x + c.width && c.y <= y && y < c.y + c.height,
      ).length;
    // bound per pixel: (36/107)^2 = 0.113, i.e. about 226 of 2000
    for (const [x, y] of [
      [0, 0],
      [71, 71],
      [0, 71],
      [36, 36],
    ]) {
      expect(covers(x, y)).toBeGreaterThan(150);
    }
  });

  it('extends into a band whose neighbour is by the same node', () => {
    const tile = gridTiles(640, 360, 4, 4, 8)[5];
    const rng = seededRng(8);
    let reached = false;
    for (let i = 0; i < 500; i++) {
      const plan = planCropCheck(tile.region, tile.margins, rng, DEFAULT_POLICY, { left: false });
      expect(plan.interior.x).toBe(160);
      if (plan.crops[0].x === 160) reached = true;
    }
    expect(reached).toBe(true);
  });

  it('draws two numbers per crop, so a crypto rng drops in', () => {
    let draws = 0;
    const rng = seededRng(3);
    const counting = () => {
      draws++;
      return rng();
    };
    const tile = gridTiles(640, 360, 4, 4, 8)[0];
    planCropCheck(tile.region, tile.margins, counting, POLICIES.paranoid);
    expect(draws).toBe(2 * POLICIES.paranoid.cropsPerCheck);
    expect(randomInt(cryptoRng(), 0, 0)).toBe(0);
  });
});
