import { gridTiles } from '@tessera/verification';
import {
  batches,
  earnings,
  paymentTerms,
  PricingError,
  PIXEL_SAMPLES_PER_UNIT,
  pixelSamples,
  priceOf,
  quoteJob,
  workUnits,
} from './pricing';

const GWEI = 1_000_000_000n;

describe('work units', () => {
  it('is one unit per megapixel at 100 samples, whatever the tile shape', () => {
    expect(workUnits(1000, 1000, 100)).toBe(1);
    expect(workUnits(500, 2000, 100)).toBe(1);
    expect(workUnits(1000, 1000, 25)).toBe(0.25);
    // the same pixels split into four tiles cost the same as one
    const whole = pixelSamples(640, 360, 32);
    const quarters = 4n * pixelSamples(320, 180, 32);
    expect(quarters).toBe(whole);
  });

  it('rejects fractional or negative sizes', () => {
    expect(() => pixelSamples(10.5, 10, 1)).toThrow(/width/);
    expect(() => pixelSamples(10, -1, 1)).toThrow(/height/);
  });

  it('prices pixel-samples rounding down to the wei', () => {
    expect(priceOf(PIXEL_SAMPLES_PER_UNIT, 7n)).toBe(7n);
    expect(priceOf(PIXEL_SAMPLES_PER_UNIT - 1n, 7n)).toBe(6n);
    expect(() => priceOf(-1n, 1n)).toThrow();
  });
});

describe('quoteJob', () => {
  const tiles = gridTiles(640, 360, 2, 2, 8);
  const price = 1000n * GWEI;

  it('charges every rendered pixel, margins included', () => {
    const q = quoteJob({ tiles, samples: 16, priceWei: price, verification: 'off' });
    const pixels = tiles.reduce((n, t) => n + t.region.width * t.region.height, 0);
    expect(pixels).toBeGreaterThan(640 * 360); // the margins are rendered twice
    expect(q.workWei).toBe((BigInt(pixels) * 16n * price) / PIXEL_SAMPLES_PER_UNIT);
    expect(q.verificationWei).toBe(0n);
    expect(q.depositWei).toBe(q.workWei);
  });

  it('adds a verification allowance that grows with the strength', () => {
    const at = (verification: 'light' | 'standard' | 'paranoid') =>
      quoteJob({ tiles, samples: 16, priceWei: price, verification });
    const light = at('light');
    const standard = at('standard');
    const paranoid = at('paranoid');
    expect(light.verificationWei).toBeGreaterThan(0n);
    expect(standard.verificationWei).toBeGreaterThan(light.verificationWei);
    expect(paranoid.verificationWei).toBeGreaterThan(standard.verificationWei);
    for (const q of [light, standard, paranoid]) {
      expect(q.depositWei).toBe(q.workWei + q.verificationWei);
      // rounded up: never less than the ratio asks for
      expect(Number(q.verificationWei)).toBeGreaterThanOrEqual(
        Number(q.workWei) * q.verificationRatio - 1,
      );
    }
  });

  it('needs tiles', () => {
    expect(() => quoteJob({ tiles: [], samples: 1, priceWei: 1n, verification: 'off' })).toThrow();
  });
});

describe('earnings', () => {
  const render = (payee: string, width = 100, height = 100, samples = 100) => ({
    payee,
    width,
    height,
    samples,
  });

  it('sums each node and rounds once per node', () => {
    // 3 tiles of 0.01 units each at 150 wei per unit: 1.5 wei per tile, 4 wei for the three
    const e = earnings([render('a'), render('a'), render('a'), render('b')], 150n, 10n ** 18n);
    expect(e.amounts.get('a')).toBe(4n);
    expect(e.amounts.get('b')).toBe(1n);
    expect(e.total).toBe(5n);
    expect(e.scaled).toBe(false);
  });

  it('scales everyone down alike when the work exceeds the budget', () => {
    const e = earnings([render('a'), render('a'), render('b')], 10n ** 12n, 2n * 10n ** 10n);
    // unscaled: a = 2e10, b = 1e10, total 3e10 > budget 2e10
    expect(e.scaled).toBe(true);
    expect(e.total).toBeLessThanOrEqual(2n * 10n ** 10n);
    expect(e.amounts.get('a')).toBe(13_333_333_333n); // 2e10 * 2/3, rounded down
    expect(e.amounts.get('b')).toBe(6_666_666_666n);
  });

  it('pays nothing for nothing', () => {
    expect(earnings([], 100n, 100n)).toEqual({ amounts: new Map(), total: 0n, scaled: false });
  });
});

describe('batches', () => {
  it('splits in order and refuses a size below one', () => {
    expect(batches([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(batches([], 3)).toEqual([]);
    expect(() => batches([1], 0)).toThrow();
  });
});

describe('paymentTerms', () => {
  const tiles = gridTiles(320, 180, 2, 2, 4);
  const base = {
    tiles,
    samples: 8,
    verification: 'standard' as const,
    defaultPriceWei: 10n ** 12n,
    escrow: true,
  };

  it('asks for the quote as deposit at the default price', () => {
    const t = paymentTerms(base);
    expect(t.priceWei).toBe(10n ** 12n);
    expect(t.depositWei).toBe(t.quote.depositWei);
    expect(t.payment).toBe('AWAITING_FUNDS');
  });

  it("uses the requester's price and budget cap", () => {
    const t = paymentTerms({ ...base, maxPriceWei: '5000000000000', budgetWei: '10000000000000' });
    expect(t.priceWei).toBe(5n * 10n ** 12n);
    expect(t.depositWei).toBe(10n ** 13n);
  });

  it('refuses a budget below the cost of the tiles', () => {
    const work = quoteJob({ ...base, priceWei: base.defaultPriceWei }).workWei;
    expect(() => paymentTerms({ ...base, budgetWei: String(work - 1n) })).toThrow(PricingError);
    expect(paymentTerms({ ...base, budgetWei: String(work) }).depositWei).toBe(work);
  });

  it('charges nothing without an escrow', () => {
    expect(paymentTerms({ ...base, escrow: false }).payment).toBe('NONE');
  });
});
