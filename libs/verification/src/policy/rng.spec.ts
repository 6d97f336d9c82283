import { bernoulli, cryptoRng, randomInt, seededRng } from './rng';

describe('seededRng', () => {
  it('repeats its sequence for a seed and differs between seeds', () => {
    const a = seededRng(42);
    const b = seededRng(42);
    const c = seededRng(43);
    const xs = Array.from({ length: 100 }, () => a());
    expect(Array.from({ length: 100 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 100 }, () => c())).not.toEqual(xs);
  });

  it('is uniform on [0, 1): every value in range, mean and deciles as expected', () => {
    const rng = seededRng(7);
    const n = 100_000;
    const deciles = new Array<number>(10).fill(0);
    let sum = 0;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const u = rng();
      if (!(u >= 0 && u < 1)) outside++;
      sum += u;
      deciles[Math.floor(u * 10)]++;
    }
    expect(outside).toBe(0);
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.005);
    // chi-square with 9 degrees of freedom: 27.9 is the 0.1% tail
    const chi2 = deciles.reduce((s, o) => s + (o - n / 10) ** 2 / (n / 10), 0);
    expect(chi2).toBeLessThan(27.9);
  });
});

describe('cryptoRng', () => {
  it('gives distinct numbers in [0, 1) across buffer refills', () => {
    const rng = cryptoRng();
    const xs = Array.from({ length: 2000 }, () => rng());
    expect(xs.every((u) => u >= 0 && u < 1)).toBe(true);
    expect(new Set(xs).size).toBe(xs.length);
    const mean = xs.reduce((s, u) => s + u, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05);
  });
});

describe('randomInt', () => {
  it('covers [min, max] inclusively and uniformly', () => {
    const rng = seededRng(1);
    const counts = new Map<number, number>();
    for (let i = 0; i < 60_000; i++) {
      const v = randomInt(rng, -2, 3);
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([-2, -1, 0, 1, 2, 3]);
    for (const c of counts.values()) expect(Math.abs(c - 10_000)).toBeLessThan(500);
  });

  it('maps the extremes of the rng to the extremes of the range', () => {
    expect(randomInt(() => 0, 5, 9)).toBe(5);
    expect(randomInt(() => 1 - 2 ** -53, 5, 9)).toBe(9);
  });

  it('refuses a broken rng and an empty range', () => {
    expect(() => randomInt(() => 1, 0, 3)).toThrow(RangeError);
    expect(() => randomInt(() => NaN, 0, 3)).toThrow(RangeError);
    expect(() => randomInt(() => 0.5, 3, 2)).toThrow(RangeError);
    expect(() => bernoulli(() => -0.1, 0.5)).toThrow(RangeError);
  });
});

describe('bernoulli', () => {
  it('is true with the given probability and never for 0, always for 1', () => {
    const rng = seededRng(3);
    let hits = 0;
    for (let i = 0; i < 50_000; i++) if (bernoulli(rng, 0.3)) hits++;
    expect(Math.abs(hits / 50_000 - 0.3)).toBeLessThan(0.01);
    expect(bernoulli(() => 0, 0)).toBe(false);
    expect(bernoulli(() => 1 - 2 ** -53, 1)).toBe(true);
  });
});
