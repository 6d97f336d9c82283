import { DEFAULT_MISMATCH_RATE, verificationCost } from './cost';
import { gridTiles } from './geometry';
import { TRUSTED_SCORE } from './reputation';
import { checkRate, DEFAULT_POLICY, POLICIES, ringerRate } from './sampling';

const frames = {
  '640x360, 4x4, 8 px': gridTiles(640, 360, 4, 4, 8),
  '1920x1080, 4x4, 8 px': gridTiles(1920, 1080, 4, 4, 8),
  '1920x1080, 8x8, 8 px': gridTiles(1920, 1080, 8, 8, 8),
  '3840x2160, 8x8, 16 px': gridTiles(3840, 2160, 8, 8, 16),
  '1920x1080, 1 tile': gridTiles(1920, 1080, 1, 1, 8),
};

describe('verificationCost', () => {
  it('adds crops, ringers and arbitration per useful pixel (one tile without margins)', () => {
    const tile = gridTiles(200, 100, 1, 1, 0)[0];
    const c = checkRate(0);
    const rho = ringerRate(0);
    const crop = c * 100 * 50;
    const cost = verificationCost(DEFAULT_POLICY, 0, tile);
    expect(cost).toMatchObject({ usefulPixels: 20_000, overlapPixels: 0, overlapRatio: 0 });
    expect(cost.cropPixels).toBeCloseTo(crop, 9);
    expect(cost.ringerPixels).toBeCloseTo(rho * 20_000, 9);
    expect(cost.arbitrationPixels).toBeCloseTo(DEFAULT_MISMATCH_RATE * crop, 9);
    expect(cost.verificationRatio).toBeCloseTo((crop * 1.01 + rho * 20_000) / 20_000, 12);
    expect(cost.verificationRatio).toBeCloseTo(0.202, 3);
  });

  it('reports the overlap margins separately: 21.8% for 4x4 tiles of 640x360 with 8 px', () => {
    const cost = verificationCost(DEFAULT_POLICY, 0, frames['640x360, 4x4, 8 px']);
    expect(cost.usefulPixels).toBe(14_400);
    expect(cost.overlapRatio).toBeCloseTo((172 * 102) / (160 * 90) - 1, 12);
    // arbitration includes the tile's share of its overlap strips: mu * margin * core edge length
    const noCrops = verificationCost(
      { ...DEFAULT_POLICY, minCheckRate: 0, maxCheckRate: 0 },
      0,
      frames['640x360, 4x4, 8 px'],
    );
    // 12 vertical and 12 horizontal interior edges, each seen from both sides: margin x core edge
    const strips = (12 * 2 * 8 * 90 + 12 * 2 * 8 * 160) / 16;
    expect(noCrops.arbitrationPixels).toBeCloseTo(DEFAULT_MISMATCH_RATE * strips, 9);
  });

  it('falls with reputation', () => {
    for (const tiles of Object.values(frames)) {
      let previous = Infinity;
      for (let r = 0; r <= 1.000001; r += 0.1) {
        const ratio = verificationCost(DEFAULT_POLICY, Math.min(r, 1), tiles).verificationRatio;
        expect(ratio).toBeLessThan(previous);
        previous = ratio;
      }
    }
  });

  it('meets the targets: <= 25% for a new node, <= 5% for a trusted one', () => {
    for (const tiles of Object.values(frames)) {
      expect(verificationCost(DEFAULT_POLICY, 0, tiles).verificationRatio).toBeLessThanOrEqual(
        0.25,
      );
      expect(
        verificationCost(DEFAULT_POLICY, TRUSTED_SCORE, tiles).verificationRatio,
      ).toBeLessThanOrEqual(0.05);
    }
    expect(
      verificationCost(DEFAULT_POLICY, 0, frames['640x360, 4x4, 8 px']).verificationRatio,
    ).toBeCloseTo(0.185, 3);
    expect(
      verificationCost(DEFAULT_POLICY, TRUSTED_SCORE, frames['640x360, 4x4, 8 px'])
        .verificationRatio,
    ).toBeCloseTo(0.035, 3);
    expect(
      verificationCost(POLICIES.light, 0, frames['640x360, 4x4, 8 px']).verificationRatio,
    ).toBeLessThan(0.1);
  });

  it('refuses no tiles and a bad mismatch rate', () => {
    expect(() => verificationCost(DEFAULT_POLICY, 0, [])).toThrow(RangeError);
    expect(() =>
      verificationCost(DEFAULT_POLICY, 0, frames['1920x1080, 1 tile'], { mismatchRate: 2 }),
    ).toThrow(RangeError);
  });
});
