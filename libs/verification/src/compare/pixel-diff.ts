// Per-pixel difference statistics of two same-size RGBA images.
import type { RgbaImage } from '../image/rgba-image';

export interface PixelDiffStats {
  pixels: number;
  /** pixels with any channel different */
  differingPixels: number;
  /** largest |a - b| of one channel, 0..255 */
  maxChannelDelta: number;
  /** mean |a - b| over all RGBA channels */
  meanAbsDelta: number;
  /** pixels with some channel differing by more than `strongDelta` */
  strongDeltaPixels: number;
}

/** Images must have the same size (compareRenders checks it). */
export function pixelDiff(a: RgbaImage, b: RgbaImage, strongDelta = 8): PixelDiffStats {
  const pixels = a.width * a.height;
  if (a.data.equals(b.data)) {
    return {
      pixels,
      differingPixels: 0,
      maxChannelDelta: 0,
      meanAbsDelta: 0,
      strongDeltaPixels: 0,
    };
  }
  const da = a.data;
  const db = b.data;
  let differing = 0;
  let strong = 0;
  let max = 0;
  let sum = 0;
  for (let i = 0; i < da.length; i += 4) {
    const d0 = Math.abs(da[i] - db[i]);
    const d1 = Math.abs(da[i + 1] - db[i + 1]);
    const d2 = Math.abs(da[i + 2] - db[i + 2]);
    const d3 = Math.abs(da[i + 3] - db[i + 3]);
    const m = Math.max(d0, d1, d2, d3);
    if (m > 0) {
      differing++;
      sum += d0 + d1 + d2 + d3;
      if (m > strongDelta) strong++;
      if (m > max) max = m;
    }
  }
  return {
    pixels,
    differingPixels: differing,
    maxChannelDelta: max,
    meanAbsDelta: sum / (pixels * 4),
    strongDeltaPixels: strong,
  };
}
