import type { PixelRegion } from '@tessera/protocol';
import type { RgbaImage } from './rgba-image';

export type Rgba = readonly [number, number, number, number];

/**
 * A copy of `img` with `rect` (image coordinates) filled with a colour, or with the rect's own mean
 * colour: the "painted over" tampering that fixtures, benchmarks and tests model.
 */
export function fillRegion(img: RgbaImage, rect: PixelRegion, rgba: Rgba | 'mean'): RgbaImage {
  const out = { ...img, data: Buffer.from(img.data) };
  let fill = rgba;
  if (fill === 'mean') {
    const sum = [0, 0, 0, 0];
    for (let y = rect.y; y < rect.y + rect.height; y++) {
      for (let x = rect.x; x < rect.x + rect.width; x++) {
        for (let c = 0; c < 4; c++) sum[c] += img.data[(y * img.width + x) * 4 + c];
      }
    }
    const n = rect.width * rect.height;
    fill = sum.map((s) => Math.round(s / n)) as unknown as Rgba;
  }
  for (let y = rect.y; y < rect.y + rect.height; y++) {
    for (let x = rect.x; x < rect.x + rect.width; x++) {
      const i = (y * img.width + x) * 4;
      for (let c = 0; c < 4; c++) out.data[i + c] = fill[c];
    }
  }
  return out;
}
