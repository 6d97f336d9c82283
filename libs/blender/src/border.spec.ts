import { borderEdge, borderToPixelRegion, pixelRegionToBorder } from './border';

describe('pixelRegionToBorder', () => {
  it('flips the top-left region to a bottom-left border', () => {
    const frame = { width: 160, height: 90 };
    expect(pixelRegionToBorder({ x: 0, y: 0, width: 80, height: 45 }, frame)).toEqual({
      minX: 0,
      maxX: 80.5 / 160,
      minY: 45.5 / 90,
      maxY: 1,
    });
    expect(pixelRegionToBorder({ x: 0, y: 0, width: 160, height: 90 }, frame)).toEqual({
      minX: 0,
      maxX: 1,
      minY: 0,
      maxY: 1,
    });
  });

  it('round-trips through Blender float32 truncation for every edge of many frame sizes', () => {
    const sizes = [...Array.from({ length: 1100 }, (_, i) => i + 1), 1920, 3840, 4096, 7680, 16384];
    for (const size of sizes) {
      for (let p = 0; p <= size; p++) {
        const back = Math.trunc(Math.fround(Math.fround(borderEdge(p, size)) * Math.fround(size)));
        if (back !== p) throw new Error(`size ${size}: pixel ${p} maps back to ${back}`);
      }
    }
  });

  it('is needed: the naive p / size loses pixels to float32 rounding', () => {
    let lost = 0;
    for (let size = 1; size <= 1100; size++) {
      for (let p = 0; p <= size; p++) {
        if (Math.trunc(Math.fround(Math.fround(p / size) * size)) !== p) lost++;
      }
    }
    expect(lost).toBeGreaterThan(0);
  });

  it('maps regions, margins included, back to the same pixels', () => {
    const frame = { width: 1923, height: 1081 };
    const regions = [
      { x: 0, y: 0, width: 1, height: 1 },
      { x: 1922, y: 1080, width: 1, height: 1 },
      { x: 477, y: 263, width: 512, height: 300 },
      { x: 0, y: 530, width: 1923, height: 551 },
    ];
    for (const r of regions) {
      expect(borderToPixelRegion(pixelRegionToBorder(r, frame), frame)).toEqual(r);
    }
  });

  it.each([
    [{ x: -1, y: 0, width: 10, height: 10 }],
    [{ x: 0, y: 0, width: 0, height: 10 }],
    [{ x: 0.5, y: 0, width: 10, height: 10 }],
    [{ x: 155, y: 0, width: 10, height: 10 }],
    [{ x: 0, y: 85, width: 10, height: 10 }],
  ])('rejects %j outside a 160x90 frame', (region) => {
    expect(() => pixelRegionToBorder(region, { width: 160, height: 90 })).toThrow(RangeError);
  });
});
