// The block-statistics test: the images are cut into blocks (16x16 by default) and compared per
// block by mean colour (catches patches, wrong content, shifted geometry) and by noise level, the
// RMS of the luma high-pass (catches fewer samples: more noise; upscaling, blurring or flat
// painting: less). Means and noise levels average hundreds of pixels, so the test is insensitive
// to the per-pixel noise that honest renders on different devices may not share.
import type { RgbaImage } from '../image/rgba-image';
import type { BlockMeanDelta, BlockNoise, BlockStrongDelta } from './types';

export interface BlockStatsOptions {
  blockSize: number;
  /** a pixel differs strongly when a channel differs by more than this (0..255) */
  strongDelta: number;
  /** noise levels below this count as this, for the whole image */
  noiseFloor: number;
  /** and per block */
  blockNoiseFloor: number;
}

export interface BlockStats {
  blocks: number;
  worstBlock: BlockMeanDelta;
  noise: { a: number; b: number; ratio: number };
  worstNoiseBlock: BlockNoise;
  /** the block with the largest share of strongly differing pixels */
  worstStrongBlock: BlockStrongDelta;
}

const CHANNELS = ['r', 'g', 'b', 'a'] as const;

/**
 * Block boundaries along an axis of `length` pixels: [0, size, 2*size, ..., length]. A ragged
 * last block shorter than half a block is merged into the one before it, so every block but a
 * lone short axis has at least size/2 pixels per side.
 */
export function blockEdges(length: number, size: number): number[] {
  const edges = [0];
  for (let e = size; e < length; e += size) edges.push(e);
  if (edges.length > 1 && length - edges[edges.length - 1] < size / 2) edges.pop();
  edges.push(length);
  return edges;
}

/** Luma high-pass of an image: each pixel minus the mean of its 4 neighbours (edges replicated). */
export function highPass(img: RgbaImage): Float32Array {
  const { width: w, height: h, data } = img;
  const luma = new Float32Array(w * h);
  for (let i = 0, p = 0; i < luma.length; i++, p += 4) {
    luma[i] = 0.299 * data[p] + 0.587 * data[p + 1] + 0.114 * data[p + 2];
  }
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    const up = (y > 0 ? y - 1 : y) * w;
    const down = (y < h - 1 ? y + 1 : y) * w;
    for (let x = 0; x < w; x++) {
      const left = x > 0 ? x - 1 : x;
      const right = x < w - 1 ? x + 1 : x;
      out[row + x] =
        luma[row + x] -
        0.25 * (luma[row + left] + luma[row + right] + luma[up + x] + luma[down + x]);
    }
  }
  return out;
}

/** Noise level of a whole image: RMS of highPass(), 8-bit luma units. */
export function noiseLevel(img: RgbaImage): number {
  const hp = highPass(img);
  let sum = 0;
  for (let i = 0; i < hp.length; i++) sum += hp[i] * hp[i];
  return Math.sqrt(sum / hp.length);
}

function axisIndex(edges: number[], length: number): Uint32Array {
  const index = new Uint32Array(length);
  for (let k = 0; k + 1 < edges.length; k++) index.fill(k, edges[k], edges[k + 1]);
  return index;
}

const floorRatio = (a: number, b: number, floor: number) => Math.max(b, floor) / Math.max(a, floor);
/** how far a ratio is from 1, either way */
export const ratioSpread = (r: number) => (r >= 1 ? r : 1 / r);

/** Images must have the same size (compareRenders checks it). */
export function blockStatistics(a: RgbaImage, b: RgbaImage, opts: BlockStatsOptions): BlockStats {
  const { width: w, height: h } = a;
  const xs = blockEdges(w, opts.blockSize);
  const ys = blockEdges(h, opts.blockSize);
  const bx = axisIndex(xs, w);
  const by = axisIndex(ys, h);
  const cols = xs.length - 1;
  const count = cols * (ys.length - 1);
  // per block: 4 channel sums of a and of b, and the high-pass energy of a and of b
  const sums = new Float64Array(count * 8);
  const energy = new Float64Array(count * 2);
  const strong = new Uint32Array(count);
  const limit = opts.strongDelta;
  const hpA = highPass(a);
  const hpB = highPass(b);
  const da = a.data;
  const db = b.data;
  let totalA = 0;
  let totalB = 0;
  for (let y = 0; y < h; y++) {
    const rowBlock = by[y] * cols;
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const p = i * 4;
      const k = rowBlock + bx[x];
      const s = k * 8;
      sums[s] += da[p];
      sums[s + 1] += da[p + 1];
      sums[s + 2] += da[p + 2];
      sums[s + 3] += da[p + 3];
      sums[s + 4] += db[p];
      sums[s + 5] += db[p + 1];
      sums[s + 6] += db[p + 2];
      sums[s + 7] += db[p + 3];
      if (
        Math.abs(da[p] - db[p]) > limit ||
        Math.abs(da[p + 1] - db[p + 1]) > limit ||
        Math.abs(da[p + 2] - db[p + 2]) > limit ||
        Math.abs(da[p + 3] - db[p + 3]) > limit
      ) {
        strong[k]++;
      }
      const ea = hpA[i] * hpA[i];
      const eb = hpB[i] * hpB[i];
      energy[k * 2] += ea;
      energy[k * 2 + 1] += eb;
      totalA += ea;
      totalB += eb;
    }
  }

  const first = { x: 0, y: 0, width: xs[1], height: ys[1] };
  let worstBlock: BlockMeanDelta = { ...first, meanDelta: -1, channel: 'r' };
  let worstNoiseBlock: BlockNoise = { ...first, a: 0, b: 0, ratio: 0 };
  let worstStrongBlock: BlockStrongDelta = { ...first, ratio: -1 };
  for (let row = 0; row + 1 < ys.length; row++) {
    for (let col = 0; col < cols; col++) {
      const k = row * cols + col;
      const rect = {
        x: xs[col],
        y: ys[row],
        width: xs[col + 1] - xs[col],
        height: ys[row + 1] - ys[row],
      };
      const n = rect.width * rect.height;
      for (let c = 0; c < 4; c++) {
        const meanDelta = Math.abs(sums[k * 8 + c] - sums[k * 8 + 4 + c]) / n;
        if (meanDelta > worstBlock.meanDelta) {
          worstBlock = { ...rect, meanDelta, channel: CHANNELS[c] };
        }
      }
      if (strong[k] / n > worstStrongBlock.ratio)
        worstStrongBlock = { ...rect, ratio: strong[k] / n };
      const na = Math.sqrt(energy[k * 2] / n);
      const nb = Math.sqrt(energy[k * 2 + 1] / n);
      const ratio = floorRatio(na, nb, opts.blockNoiseFloor);
      if (worstNoiseBlock.ratio === 0 || ratioSpread(ratio) > ratioSpread(worstNoiseBlock.ratio)) {
        worstNoiseBlock = { ...rect, a: na, b: nb, ratio };
      }
    }
  }
  const noiseA = Math.sqrt(totalA / (w * h));
  const noiseB = Math.sqrt(totalB / (w * h));
  return {
    blocks: count,
    worstBlock,
    noise: { a: noiseA, b: noiseB, ratio: floorRatio(noiseA, noiseB, opts.noiseFloor) },
    worstNoiseBlock,
    worstStrongBlock,
  };
}
