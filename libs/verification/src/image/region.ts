// Regions in frame coordinates (pixels, top-left origin, as leased to nodes) and the pixels of
// a tile that cover them.
import type { PixelRegion } from '@tessera/protocol';
import { assertRgbaImage, RgbaImage } from './rgba-image';

export function assertRegion(r: PixelRegion, what = 'region'): void {
  const ok =
    [r.x, r.y, r.width, r.height].every(Number.isInteger) &&
    r.x >= 0 &&
    r.y >= 0 &&
    r.width >= 1 &&
    r.height >= 1;
  if (!ok) throw new RangeError(`${what}: invalid ${JSON.stringify(r)}`);
}

export function describeRegion(r: PixelRegion): string {
  return `${r.width}x${r.height}+${r.x}+${r.y}`;
}

/** Whether `inner` lies completely inside `outer`. */
export function regionContains(outer: PixelRegion, inner: PixelRegion): boolean {
  return (
    inner.x >= outer.x &&
    inner.y >= outer.y &&
    inner.x + inner.width <= outer.x + outer.width &&
    inner.y + inner.height <= outer.y + outer.height
  );
}

/**
 * The pixels two regions share (e.g. the overlap strip of two neighbouring tiles' leased regions),
 * or null when they share none (touching edges share none).
 */
export function intersectRegions(a: PixelRegion, b: PixelRegion): PixelRegion | null {
  assertRegion(a, 'a');
  assertRegion(b, 'b');
  const x = Math.max(a.x, b.x);
  const y = Math.max(a.y, b.y);
  const right = Math.min(a.x + a.width, b.x + b.width);
  const bottom = Math.min(a.y + a.height, b.y + b.height);
  if (right <= x || bottom <= y) return null;
  return { x, y, width: right - x, height: bottom - y };
}

/** A copy of `region` (in the image's own coordinates) of the image. */
export function cropImage(img: RgbaImage, region: PixelRegion): RgbaImage {
  assertRgbaImage(img);
  assertRegion(region, 'crop region');
  if (region.x + region.width > img.width || region.y + region.height > img.height) {
    throw new RangeError(
      `crop ${describeRegion(region)} is outside the ${img.width}x${img.height} image`,
    );
  }
  const { x, y, width, height } = region;
  const rowBytes = width * 4;
  // Buffer.alloc (never the shared pool) keeps the pixels 4-byte aligned for Uint32 views.
  const data = Buffer.alloc(rowBytes * height);
  for (let row = 0; row < height; row++) {
    const start = ((y + row) * img.width + x) * 4;
    img.data.copy(data, row * rowBytes, start, start + rowBytes);
  }
  return { width, height, data };
}

/**
 * The pixels of `frameRegion` (frame coordinates) taken from a tile image whose own place in the
 * frame is `tileRegion`. Throws when the tile image is not tileRegion's size or the region is not
 * inside the tile.
 */
export function frameRegionOfTile(
  tileImage: RgbaImage,
  tileRegion: PixelRegion,
  frameRegion: PixelRegion,
): RgbaImage {
  assertRgbaImage(tileImage, 'tile image');
  assertRegion(tileRegion, 'tile region');
  assertRegion(frameRegion, 'frame region');
  if (tileImage.width !== tileRegion.width || tileImage.height !== tileRegion.height) {
    throw new RangeError(
      `tile image is ${tileImage.width}x${tileImage.height} but its region is ${describeRegion(tileRegion)}`,
    );
  }
  if (!regionContains(tileRegion, frameRegion)) {
    throw new RangeError(
      `region ${describeRegion(frameRegion)} is not inside the tile ${describeRegion(tileRegion)}`,
    );
  }
  return cropImage(tileImage, {
    x: frameRegion.x - tileRegion.x,
    y: frameRegion.y - tileRegion.y,
    width: frameRegion.width,
    height: frameRegion.height,
  });
}
