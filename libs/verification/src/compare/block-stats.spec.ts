import { solidImage } from '../image/rgba-image';
import { blockEdges, blockStatistics, highPass, noiseLevel } from './block-stats';
import { boxBlur, dither, mapPixels, paintRect, synthRender } from './test-images';

const OPTS = { blockSize: 16, strongDelta: 8, noiseFloor: 1, blockNoiseFloor: 2 };

describe('blockEdges', () => {
  it('cuts whole blocks and merges a ragged end shorter than half a block', () => {
    expect(blockEdges(64, 16)).toEqual([0, 16, 32, 48, 64]);
    expect(blockEdges(72, 16)).toEqual([0, 16, 32, 48, 64, 72]); // 8 left: a block of its own
    expect(blockEdges(70, 16)).toEqual([0, 16, 32, 48, 70]); // 6 left: merged
    expect(blockEdges(16, 16)).toEqual([0, 16]);
    expect(blockEdges(10, 16)).toEqual([0, 10]);
    expect(blockEdges(1, 16)).toEqual([0, 1]);
  });
});

describe('highPass / noiseLevel', () => {
  it('is zero on flat images and on linear gradients away from the edges', () => {
    expect(noiseLevel(solidImage(20, 10, [90, 90, 90, 255]))).toBe(0);
    const ramp = mapPixels(solidImage(20, 10), (_v, x) => 10 * x);
    const hp = highPass(ramp);
    expect(Math.abs(hp[5 * 20 + 10])).toBeLessThan(1e-4);
  });

  it('grows like the noise: 1/8 of the samples is ~sqrt(8) times noisier', () => {
    const full = noiseLevel(synthRender({ samples: 32 }));
    const eighth = noiseLevel(synthRender({ samples: 4 }));
    expect(eighth / full).toBeGreaterThan(1.5); // edges add the same high-pass energy to both
    expect(eighth / full).toBeLessThan(3.2);
  });
});

describe('blockStatistics', () => {
  const a = synthRender();

  it('finds nothing between identical images', () => {
    const s = blockStatistics(a, a, OPTS);
    expect(s.blocks).toBe(6 * 4);
    expect(s.worstBlock.meanDelta).toBe(0);
    expect(s.worstStrongBlock.ratio).toBe(0);
    expect(s.noise.ratio).toBe(1);
    expect(s.worstNoiseBlock.ratio).toBe(1);
  });

  it('locates a painted patch: its block, its channel and its mean difference', () => {
    const b = paintRect(a, { x: 32, y: 16, width: 16, height: 16 }, [255, 0, 255]);
    const s = blockStatistics(a, b, OPTS);
    expect(s.worstBlock).toMatchObject({ x: 32, y: 16, width: 16, height: 16 });
    expect(s.worstBlock.meanDelta).toBeGreaterThan(100);
    expect(s.worstStrongBlock).toMatchObject({ x: 32, y: 16, ratio: 1 });
  });

  it('sees a patch painted with its own mean colour by the noise it lost', () => {
    const noisy = synthRender({ samples: 2 });
    const b = paintRect(noisy, { x: 0, y: 48, width: 16, height: 16 });
    const s = blockStatistics(noisy, b, OPTS);
    expect(s.worstBlock.meanDelta).toBeLessThan(1);
    expect(s.worstNoiseBlock).toMatchObject({ x: 0, y: 48 });
    expect(s.worstNoiseBlock.ratio).toBeLessThan(0.5);
  });

  it('reports more noise for fewer samples and less for a blur, for the whole region', () => {
    expect(blockStatistics(a, synthRender({ samples: 4 }), OPTS).noise.ratio).toBeGreaterThan(1.5);
    expect(blockStatistics(a, boxBlur(a), OPTS).noise.ratio).toBeLessThan(0.6);
  });

  it('barely moves for ±1 LSB dither: means within 1, noise within 10%', () => {
    const s = blockStatistics(a, dither(a), OPTS);
    expect(s.worstBlock.meanDelta).toBeLessThan(1);
    expect(s.worstStrongBlock.ratio).toBe(0);
    expect(Math.abs(s.noise.ratio - 1)).toBeLessThan(0.1);
  });

  it('handles ragged and tiny regions (one block smaller than blockSize)', () => {
    const small = synthRender({ width: 7, height: 5 });
    const s = blockStatistics(small, small, OPTS);
    expect(s.blocks).toBe(1);
    expect(s.worstBlock).toMatchObject({ x: 0, y: 0, width: 7, height: 5 });
    const strip = synthRender({ width: 16, height: 44 });
    expect(blockStatistics(strip, strip, OPTS).blocks).toBe(3); // 16 + 16 + 12 rows
  });

  it('counts alpha: a transparent copy differs by 255 in mean alpha', () => {
    const clear = { ...a, data: Buffer.from(a.data) };
    for (let i = 3; i < clear.data.length; i += 4) clear.data[i] = 0;
    expect(blockStatistics(a, clear, OPTS).worstBlock).toMatchObject({
      channel: 'a',
      meanDelta: 255,
    });
  });
});
