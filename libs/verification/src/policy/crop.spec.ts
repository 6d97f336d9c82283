import {
  axisHitLowerBound,
  axisHitProbability,
  clampCropStart,
  cropHitLowerBound,
  cropHitProbability,
  cropSize,
  partialFakeDetection,
  placeCropAxis,
} from './crop';
import { regionsIntersect } from './geometry';
import { seededRng } from './rng';

/** An rng that returns the midpoints of `n` equal bins in turn: enumerates every draw once. */
function enumerating(n: number) {
  let i = 0;
  return () => (i++ % n) / n + 0.5 / n;
}

describe('cropSize', () => {
  it('takes sqrt(cropFraction) of each side of the interior', () => {
    expect(cropSize({ width: 144, height: 74 }, { cropFraction: 0.25, minCropSide: 8 })).toEqual({
      width: 72,
      height: 37,
    });
    expect(cropSize({ width: 100, height: 100 }, { cropFraction: 0.16, minCropSide: 8 })).toEqual({
      width: 40,
      height: 40,
    });
  });

  it('is at least minCropSide and never larger than the interior', () => {
    expect(cropSize({ width: 10, height: 4 }, { cropFraction: 0.01, minCropSide: 8 })).toEqual({
      width: 8,
      height: 4,
    });
    expect(cropSize({ width: 10, height: 10 }, { cropFraction: 1, minCropSide: 8 })).toEqual({
      width: 10,
      height: 10,
    });
  });
});

describe('crop placement on one axis', () => {
  it('draws each of the L + C - 1 windows once and clamps them inside the span', () => {
    const [lo, length, size] = [100, 20, 6];
    const draws = length + size - 1;
    const rng = enumerating(draws);
    const starts = Array.from({ length: draws }, () => placeCropAxis(rng, lo, length, size));
    expect(Math.min(...starts)).toBe(lo);
    expect(Math.max(...starts)).toBe(lo + length - size);
    // the flush-left and flush-right crops take the windows hanging over each edge
    expect(starts.filter((s) => s === lo)).toHaveLength(size);
    expect(starts.filter((s) => s === lo + length - size)).toHaveLength(size);
    // every pixel is covered by at least C of the L + C - 1 draws
    for (let p = lo; p < lo + length; p++) {
      const covered = starts.filter((s) => s <= p && p < s + size).length;
      expect(covered).toBeGreaterThanOrEqual(size);
    }
  });

  it('refuses a crop that does not fit', () => {
    expect(() => placeCropAxis(seededRng(1), 0, 5, 6)).toThrow(RangeError);
    expect(() => placeCropAxis(seededRng(1), 0, 5, 0)).toThrow(RangeError);
    expect(clampCropStart(-3, 0, 10, 4)).toBe(0);
    expect(clampCropStart(9, 0, 10, 4)).toBe(6);
  });

  it('hits a faked run exactly as often as brute force says, never less than the bound', () => {
    for (const [length, size] of [
      [20, 6],
      [37, 37],
      [50, 1],
      [31, 12],
    ]) {
      for (let fakeLength = 1; fakeLength <= length; fakeLength += 3) {
        for (let start = 0; start + fakeLength <= length; start++) {
          const exact = axisHitProbability(length, size, start, fakeLength);
          let hits = 0;
          for (let v = -size + 1; v < length; v++) {
            const s = clampCropStart(v, 0, length, size);
            if (s < start + fakeLength && start < s + size) hits++;
          }
          expect(exact).toBe(hits / (length + size - 1));
          const bound = axisHitLowerBound(length, size, fakeLength);
          expect(exact).toBeGreaterThanOrEqual(bound - 1e-12);
          // away from the edges the bound is exact
          if (start >= size && start + fakeLength <= length - size)
            expect(exact).toBeCloseTo(bound, 12);
        }
      }
    }
  });
});

describe('cropHitProbability', () => {
  const interior = { x: 168, y: 98, width: 144, height: 74 };
  const crop = { width: 72, height: 37 };

  it('matches a Monte Carlo of placed crops for a faked patch in the corner and in the middle', () => {
    const rng = seededRng(11);
    for (const fake of [
      { x: 168, y: 98, width: 10, height: 10 },
      { x: 230, y: 130, width: 5, height: 5 },
      { x: 300, y: 160, width: 12, height: 12 },
    ]) {
      const exact = cropHitProbability(interior, crop, fake);
      const n = 40_000;
      let hits = 0;
      for (let i = 0; i < n; i++) {
        const c = {
          x: placeCropAxis(rng, interior.x, interior.width, crop.width),
          y: placeCropAxis(rng, interior.y, interior.height, crop.height),
          ...crop,
        };
        if (regionsIntersect(c, fake)) hits++;
      }
      const sigma = Math.sqrt((exact * (1 - exact)) / n);
      expect(Math.abs(hits / n - exact)).toBeLessThan(4.5 * sigma);
      expect(exact).toBeGreaterThanOrEqual(cropHitLowerBound(interior, crop, fake) - 1e-12);
    }
  });

  it('covers every single pixel with probability at least (C / (L + C - 1)) per axis', () => {
    const bound = cropHitLowerBound(interior, crop, { width: 1, height: 1 });
    expect(bound).toBeCloseTo((72 / 215) * (37 / 110), 12);
    for (const [x, y] of [
      [168, 98],
      [311, 171],
      [240, 135],
      [200, 171],
    ]) {
      expect(
        cropHitProbability(interior, crop, { x, y, width: 1, height: 1 }),
      ).toBeGreaterThanOrEqual(bound);
    }
  });
});

describe('partialFakeDetection', () => {
  it('is 1 for a fully faked interior and (b + a)^2 / (1 + a)^2 for a square patch', () => {
    expect(partialFakeDetection(1, 0.25)).toBe(1);
    const b = Math.sqrt(0.1);
    expect(partialFakeDetection(0.1, 0.25)).toBeCloseTo(((b + 0.5) / 1.5) ** 2, 12);
    expect(partialFakeDetection(0.1, 0.25)).toBeCloseTo(0.296, 3);
    expect(partialFakeDetection({ width: 1, height: 0.1 }, 0.25)).toBeCloseTo(0.6 / 1.5, 12);
  });

  it('is never below the faked area fraction, and grows with the patch', () => {
    let previous = 0;
    for (let phi = 0.001; phi <= 1; phi += 0.001) {
      const d = partialFakeDetection(phi, 0.25);
      expect(d).toBeGreaterThanOrEqual(phi - 1e-12);
      expect(d).toBeGreaterThanOrEqual(previous);
      previous = d;
    }
  });

  it('combines independent crops as 1 - (1 - d)^k', () => {
    const d = partialFakeDetection(0.05, 0.25);
    expect(partialFakeDetection(0.05, 0.25, 2)).toBeCloseTo(1 - (1 - d) ** 2, 12);
  });

  it('agrees with the exact pixel bound for a large interior', () => {
    const interior = { width: 1000, height: 1000 };
    const crop = { width: 500, height: 500 };
    const fake = { width: 316, height: 316 };
    expect(cropHitLowerBound(interior, crop, fake)).toBeCloseTo(
      partialFakeDetection(0.316 ** 2, 0.25),
      3,
    );
  });

  it('refuses extents outside (0, 1]', () => {
    expect(() => partialFakeDetection(0, 0.25)).toThrow(RangeError);
    expect(() => partialFakeDetection(1.5, 0.25)).toThrow(RangeError);
    expect(() => partialFakeDetection(0.5, 0)).toThrow(RangeError);
  });
});
