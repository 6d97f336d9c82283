import { solidImage } from '../image/rgba-image';
import { compareRenders } from './compare-renders';
import { DEFAULT_TOLERANCES, resolveTolerances } from './tolerances';
import { boxBlur, dither, mapPixels, paintRect, synthRender } from './test-images';

const ref = synthRender();
const both = ['exact', 'perceptual'] as const;

describe('compareRenders: both modes', () => {
  it.each(both)('%s: identical pixels match, exactly', (mode) => {
    const r = compareRenders(ref, { ...ref, data: Buffer.from(ref.data) }, { mode });
    expect(r).toMatchObject({ verdict: 'match', mode, exact: true, failed: [] });
    expect(r.reason).toBe('pixels identical (96x64)');
    expect(r.metrics).toMatchObject({ pixels: 96 * 64, differingPixels: 0, maxChannelDelta: 0 });
  });

  it.each(both)('%s: different sizes are a mismatch that says so', (mode) => {
    const r = compareRenders(ref, synthRender({ width: 95 }), { mode });
    expect(r).toMatchObject({ verdict: 'mismatch', exact: false, failed: ['size'] });
    expect(r.reason).toBe('size mismatch: 96x64 vs 95x64');
    expect(r.metrics.sizeMismatch).toEqual({
      a: { width: 96, height: 64 },
      b: { width: 95, height: 64 },
    });
  });

  it.each(both)('%s: refuses malformed images', (mode) => {
    expect(() =>
      compareRenders(ref, { width: 2, height: 2, data: Buffer.alloc(3) }, { mode }),
    ).toThrow(/b: 2x2 RGBA needs 16 bytes/);
  });

  it('refuses an unknown mode', () => {
    expect(() => compareRenders(ref, ref, { mode: 'fuzzy' as never })).toThrow(
      'unknown mode fuzzy',
    );
  });
});

describe('compareRenders: exact', () => {
  it('reports how many pixels differ and by how much', () => {
    const b = { ...ref, data: Buffer.from(ref.data) };
    b.data[0] = b.data[0] > 100 ? b.data[0] - 3 : b.data[0] + 3;
    b.data[4 * 50 + 3] = 250; // alpha of another pixel
    const r = compareRenders(ref, b, { mode: 'exact' });
    expect(r).toMatchObject({ verdict: 'mismatch', exact: false, failed: ['exact'] });
    expect(r.metrics).toMatchObject({ differingPixels: 2, maxChannelDelta: 5 });
    expect(r.reason).toBe('2 of 6144 pixels differ (0.033%), by up to 5/255');
    expect(r.metrics.pixelmatchRatio).toBeUndefined();
  });

  it('rejects 1 LSB of dither that perceptual mode accepts', () => {
    const b = dither(ref);
    expect(compareRenders(ref, b, { mode: 'exact' }).verdict).toBe('mismatch');
    expect(compareRenders(ref, b, { mode: 'perceptual' }).verdict).toBe('match');
  });
});

describe('compareRenders: perceptual', () => {
  const perceptual = (b: typeof ref, tolerances?: Parameters<typeof resolveTolerances>[0]) =>
    compareRenders(ref, b, { mode: 'perceptual', tolerances });

  it('accepts a same-seed render with small per-pixel differences (device-class noise)', () => {
    // a few fireflies of a different device: 0.2% of pixels off by 40
    const b = mapPixels(ref, (v, x, y) => ((x * 31 + y * 17) % 500 === 0 ? v + 40 : v));
    const r = perceptual(b);
    expect(r).toMatchObject({ verdict: 'match', exact: false, failed: [] });
    expect(r.reason).toMatch(/^perceptually equivalent: pixelmatch /);
    expect(r.metrics.pixelmatchRatio).toBeLessThan(0.01);
    expect(r.tolerances).toEqual(DEFAULT_TOLERANCES);
  });

  it('rejects black and noise on every count', () => {
    const black = perceptual(solidImage(96, 64));
    expect(black.failed).toEqual(
      expect.arrayContaining(['pixelmatch', 'strongDelta', 'blockMean', 'noise']),
    );
    expect(black.reason).toMatch(/pixelmatch flags \d+\.\d+% of pixels/);
    const noise = perceptual(
      mapPixels(ref, (_v, x, y, c) => (x * 7919 + y * 104729 + c * 13) % 256),
    );
    expect(noise.verdict).toBe('mismatch');
    expect(noise.failed).toContain('noise');
  });

  it('rejects 1/8 of the samples by its noise level', () => {
    const r = perceptual(synthRender({ samples: 4 }));
    expect(r.verdict).toBe('mismatch');
    expect(r.failed).toEqual(expect.arrayContaining(['noise', 'strongDelta']));
    expect(r.reason).toMatch(/noise level \d\.\d\dx the reference's .*fewer samples/);
  });

  it('rejects a blurred (upscaled) render by its lost noise', () => {
    const r = perceptual(boxBlur(ref));
    expect(r.failed).toContain('noise');
    expect(r.reason).toMatch(/upscaled, blurred or smoothed/);
  });

  it('rejects a different seed by its uncorrelated noise', () => {
    const r = perceptual(synthRender({ seed: 8 }));
    expect(r.verdict).toBe('mismatch');
    expect(r.failed).toContain('strongDelta');
    expect(r.reason).toMatch(/not the same noise/);
  });

  it('rejects the wrong frame (moved objects) by the block means', () => {
    const r = perceptual(synthRender({ frame: 2 }));
    expect(r.failed).toContain('blockMean');
    expect(r.metrics.worstBlock!.meanDelta).toBeGreaterThan(DEFAULT_TOLERANCES.maxBlockMeanDelta);
  });

  it('rejects a painted patch of 10% and says where it is', () => {
    const r = perceptual(paintRect(ref, { x: 40, y: 8, width: 24, height: 26 }, [250, 0, 250]));
    expect(r.failed).toEqual(
      expect.arrayContaining(['pixelmatch', 'blockMean', 'blockStrongDelta']),
    );
    expect(r.reason).toMatch(
      /block 16x16 at \((32|48),(0|16)\) differs by \d+\.\d\/255 in mean (red|green|blue)/,
    );
  });

  it('applies overridden tolerances and refuses invalid ones', () => {
    const b = synthRender({ frame: 2 });
    const loose = {
      maxPixelmatchRatio: 1,
      maxStrongDeltaRatio: 1,
      maxBlockMeanDelta: 255,
      maxBlockStrongDeltaRatio: 1,
      maxNoiseRatio: 100,
      maxBlockNoiseRatio: 100,
    };
    expect(perceptual(b, loose).verdict).toBe('match');
    expect(perceptual(b, loose).tolerances).toMatchObject(loose);
    expect(() => perceptual(b, { pixelmatchThreshold: 0 })).toThrow(
      /invalid perceptual tolerances/,
    );
    expect(() => perceptual(b, { blockSize: 1.5 })).toThrow(/invalid perceptual tolerances/);
    expect(() => resolveTolerances({ maxNoiseRatio: 0.5 })).toThrow(RangeError);
  });

  it('works on pixel buffers at any byte offset (pixelmatch needs 4-byte alignment)', () => {
    const backing = Buffer.alloc(ref.data.length + 1);
    ref.data.copy(backing, 1);
    const odd = { ...ref, data: backing.subarray(1) };
    const b = mapPixels(ref, (v, x) => (x === 3 ? v + 1 : v));
    expect(compareRenders(odd, b, { mode: 'perceptual' }).verdict).toBe('match');
  });
});
