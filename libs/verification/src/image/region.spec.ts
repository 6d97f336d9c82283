import {
  cropImage,
  describeRegion,
  frameRegionOfTile,
  intersectRegions,
  regionContains,
} from './region';
import { RgbaImage } from './rgba-image';

/** pixel (x, y) = [x, y, x ^ y, 255]: every pixel says where it came from */
function coordImage(width: number, height: number): RgbaImage {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      data.set([x, y, x ^ y, 255], (y * width + x) * 4);
    }
  }
  return { width, height, data };
}
const px = (img: RgbaImage, x: number, y: number) => [
  ...img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 4),
];

describe('intersectRegions', () => {
  it('is the overlap strip of two horizontally neighbouring padded tiles', () => {
    expect(
      intersectRegions(
        { x: 0, y: 0, width: 72, height: 44 },
        { x: 56, y: 0, width: 72, height: 44 },
      ),
    ).toEqual({ x: 56, y: 0, width: 16, height: 44 });
  });

  it('is the corner square of diagonal neighbours', () => {
    expect(
      intersectRegions(
        { x: 0, y: 0, width: 72, height: 44 },
        { x: 56, y: 28, width: 72, height: 44 },
      ),
    ).toEqual({ x: 56, y: 28, width: 16, height: 16 });
  });

  it('is the inner region when one contains the other, whichever comes first', () => {
    const outer = { x: 0, y: 0, width: 128, height: 72 };
    const inner = { x: 8, y: 4, width: 40, height: 20 };
    expect(intersectRegions(outer, inner)).toEqual(inner);
    expect(intersectRegions(inner, outer)).toEqual(inner);
  });

  it('is null for regions that only touch or are apart', () => {
    const a = { x: 0, y: 0, width: 64, height: 36 };
    expect(intersectRegions(a, { x: 64, y: 0, width: 64, height: 36 })).toBeNull();
    expect(intersectRegions(a, { x: 0, y: 36, width: 64, height: 36 })).toBeNull();
    expect(intersectRegions(a, { x: 100, y: 50, width: 5, height: 5 })).toBeNull();
  });

  it('refuses invalid regions', () => {
    const a = { x: 0, y: 0, width: 10, height: 10 };
    expect(() => intersectRegions(a, { x: 0, y: 0, width: 0, height: 5 })).toThrow(RangeError);
    expect(() => intersectRegions(a, { x: -1, y: 0, width: 2, height: 5 })).toThrow(RangeError);
    expect(() => intersectRegions({ x: 0.5, y: 0, width: 2, height: 2 }, a)).toThrow(RangeError);
  });
});

describe('regionContains', () => {
  it('includes the edges and nothing beyond', () => {
    const outer = { x: 10, y: 10, width: 20, height: 20 };
    expect(regionContains(outer, outer)).toBe(true);
    expect(regionContains(outer, { x: 10, y: 10, width: 1, height: 1 })).toBe(true);
    expect(regionContains(outer, { x: 29, y: 29, width: 1, height: 1 })).toBe(true);
    expect(regionContains(outer, { x: 29, y: 29, width: 2, height: 1 })).toBe(false);
    expect(regionContains(outer, { x: 9, y: 10, width: 2, height: 2 })).toBe(false);
  });
});

describe('cropImage', () => {
  const img = coordImage(20, 10);

  it('copies exactly the requested pixels', () => {
    const c = cropImage(img, { x: 3, y: 2, width: 5, height: 4 });
    expect([c.width, c.height, c.data.length]).toEqual([5, 4, 80]);
    expect(px(c, 0, 0)).toEqual([3, 2, 3 ^ 2, 255]);
    expect(px(c, 4, 3)).toEqual([7, 5, 7 ^ 5, 255]);
  });

  it('returns a copy that does not share memory with the source, 4-byte aligned', () => {
    const c = cropImage(img, { x: 0, y: 0, width: 20, height: 10 });
    expect(c.data.equals(img.data)).toBe(true);
    c.data[0] = 99;
    expect(img.data[0]).toBe(0);
    expect(cropImage(img, { x: 1, y: 1, width: 1, height: 1 }).data.byteOffset % 4).toBe(0);
  });

  it('refuses regions outside the image, empty or fractional ones', () => {
    expect(() => cropImage(img, { x: 16, y: 0, width: 5, height: 1 })).toThrow(
      'crop 5x1+16+0 is outside the 20x10 image',
    );
    expect(() => cropImage(img, { x: 0, y: 9, width: 1, height: 2 })).toThrow(RangeError);
    expect(() => cropImage(img, { x: 0, y: 0, width: 0, height: 2 })).toThrow(RangeError);
    expect(() => cropImage(img, { x: 0, y: 0, width: 1.5, height: 2 })).toThrow(RangeError);
  });

  it('refuses a malformed image', () => {
    const bad = { width: 4, height: 4, data: Buffer.alloc(10) };
    expect(() => cropImage(bad, { x: 0, y: 0, width: 1, height: 1 })).toThrow(/needs 64 bytes/);
  });
});

describe('frameRegionOfTile', () => {
  // a 128x72 frame whose pixels encode their frame coordinates, and its tile at 56,28
  const frame = coordImage(128, 72);
  const tileRegion = { x: 56, y: 28, width: 72, height: 44 };
  const tile = cropImage(frame, tileRegion);

  it('takes frame coordinates and returns the same pixels as the frame', () => {
    const strip = { x: 56, y: 28, width: 16, height: 44 };
    const got = frameRegionOfTile(tile, tileRegion, strip);
    expect(got.data.equals(cropImage(frame, strip).data)).toBe(true);
    expect(px(got, 0, 0)).toEqual([56, 28, 56 ^ 28, 255]);
  });

  it('refuses a region that is not inside the tile', () => {
    expect(() =>
      frameRegionOfTile(tile, tileRegion, { x: 50, y: 30, width: 10, height: 10 }),
    ).toThrow('region 10x10+50+30 is not inside the tile 72x44+56+28');
  });

  it('refuses a tile image whose size is not its region', () => {
    expect(() =>
      frameRegionOfTile(tile, { ...tileRegion, width: 70 }, { x: 60, y: 30, width: 4, height: 4 }),
    ).toThrow('tile image is 72x44 but its region is 70x44+56+28');
  });

  it('describes regions as WxH+X+Y', () => {
    expect(describeRegion(tileRegion)).toBe('72x44+56+28');
  });
});
