// Synthetic "renders" for the unit tests (not exported by the library): a smooth scene with a few
// hard edges plus Monte-Carlo-like noise that depends on (seed, pixel) and shrinks with
// 1/sqrt(samples), so "same seed" renders share their noise, as Cycles' do.
import type { RgbaImage } from '../image/rgba-image';

export interface SynthOptions {
  width?: number;
  height?: number;
  seed?: number;
  samples?: number;
  /** moves the objects, like an animation frame */
  frame?: number;
  /** noise amplitude at 1 sample, 8-bit units */
  noise?: number;
}

function hash(seed: number, x: number, y: number): number {
  let h =
    Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^
    Math.imul(x + 1, 0xc2b2ae35) ^
    Math.imul(y + 7, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  return ((h ^ (h >>> 15)) >>> 0) / 4294967296;
}

/** approximately normal(0, 1) from 4 uniforms */
function gauss(seed: number, x: number, y: number, c: number): number {
  let s = 0;
  for (let k = 0; k < 4; k++) s += hash(seed * 31 + c * 7 + k, x, y);
  return (s - 2) * Math.sqrt(3);
}

export function synthRender(opts: SynthOptions = {}): RgbaImage {
  const { width = 96, height = 64, seed = 7, samples = 32, frame = 1, noise = 40 } = opts;
  const sigma = noise / Math.sqrt(samples);
  const data = Buffer.alloc(width * height * 4);
  const shift = (frame - 1) * 3;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      // sky gradient, a ground plane, a red box and a bright disc
      let rgb =
        y < height * 0.45 ? [40 + y, 60 + y, 110 + y] : [150 - y / 2, 140 - y / 2, 120 - y / 2];
      const bx = x - shift;
      if (bx > width * 0.15 && bx < width * 0.4 && y > height * 0.3 && y < height * 0.75) {
        rgb = [200 - (bx % 9), 40, 30];
      }
      const dx = x - width * 0.7 - shift / 2;
      const dy = y - height * 0.5;
      if (dx * dx + dy * dy < (height * 0.2) ** 2) rgb = [220, 225, 230 - Math.abs(dx)];
      const p = (y * width + x) * 4;
      for (let c = 0; c < 3; c++) {
        data[p + c] = Math.max(0, Math.min(255, Math.round(rgb[c] + sigma * gauss(seed, x, y, c))));
      }
      data[p + 3] = 255;
    }
  }
  return { width, height, data };
}

/** a copy of img with `fn` applied to every RGB channel value */
export function mapPixels(
  img: RgbaImage,
  fn: (v: number, x: number, y: number, c: number) => number,
): RgbaImage {
  const data = Buffer.from(img.data);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      for (let c = 0; c < 3; c++) {
        const p = (y * img.width + x) * 4 + c;
        data[p] = Math.max(0, Math.min(255, Math.round(fn(img.data[p], x, y, c))));
      }
    }
  }
  return { ...img, data };
}

/** ±1 LSB dither-like noise on every pixel */
export function dither(img: RgbaImage, seed = 1): RgbaImage {
  return mapPixels(img, (v, x, y, c) => v + Math.round(hash(seed + c, x, y) * 2 - 1));
}

/** paint a rectangle (default: with its own mean colour) */
export function paintRect(
  img: RgbaImage,
  r: { x: number; y: number; width: number; height: number },
  rgb?: [number, number, number],
): RgbaImage {
  let fill = rgb;
  if (!fill) {
    const sum = [0, 0, 0];
    for (let y = r.y; y < r.y + r.height; y++) {
      for (let x = r.x; x < r.x + r.width; x++) {
        for (let c = 0; c < 3; c++) sum[c] += img.data[(y * img.width + x) * 4 + c];
      }
    }
    fill = sum.map((s) => s / (r.width * r.height)) as [number, number, number];
  }
  const f = fill;
  return mapPixels(img, (v, x, y, c) =>
    x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height ? f[c] : v,
  );
}

/** 3x3 box blur (what an upscale does to detail and noise) */
export function boxBlur(img: RgbaImage): RgbaImage {
  const { width: w, height: h } = img;
  return mapPixels(img, (_v, x, y, c) => {
    let s = 0;
    let n = 0;
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const xx = x + dx;
        const yy = y + dy;
        if (xx >= 0 && yy >= 0 && xx < w && yy < h) {
          s += img.data[(yy * w + xx) * 4 + c];
          n++;
        }
      }
    }
    return s / n;
  });
}
