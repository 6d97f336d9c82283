// Benchmark 4: what a comparison costs next to rendering the same pixels. Decoding the two PNGs
// (as Blender wrote them) and comparing them, per megapixel, on the demo-like 640x360 frame whose
// render time the tile worker measured in the same run.
import { performance } from 'node:perf_hooks';
import {
  compareRenders,
  ComparisonMode,
  decodePng,
  RgbaImage,
  seededRng,
} from '@tessera/verification';
import type { Rendered } from './render';

export const SPEED_RUNS = 21;

export interface Timing {
  label: string;
  /** median and fastest ms per call */
  medianMs: number;
  minMs: number;
  pixels: number;
  verdict?: string;
}

export interface SpeedResult {
  width: number;
  height: number;
  /** Blender's render call for the full frame (fastest of the frames rendered), ms */
  renderMs: number;
  renderMsAll: number[];
  decode: Timing;
  compare: Record<'exact' | 'perceptual', Timing[]>;
}

function time(label: string, pixels: number, fn: () => unknown): Timing {
  for (let i = 0; i < 2; i++) fn();
  const ms: number[] = [];
  let verdict: string | undefined;
  for (let i = 0; i < SPEED_RUNS; i++) {
    const t0 = performance.now();
    const out = fn();
    ms.push(performance.now() - t0);
    if (out && typeof out === 'object' && 'verdict' in out) verdict = String(out.verdict);
  }
  ms.sort((a, b) => a - b);
  return { label, medianMs: ms[Math.floor(ms.length / 2)], minMs: ms[0], pixels, verdict };
}

async function timeAsync(label: string, pixels: number, fn: () => Promise<unknown>) {
  for (let i = 0; i < 2; i++) await fn();
  const ms: number[] = [];
  for (let i = 0; i < SPEED_RUNS; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { label, medianMs: ms[Math.floor(ms.length / 2)], minMs: ms[0], pixels };
}

/** ±1/255 on the colour channels of about a quarter of the pixels: another CPU kernel's noise. */
function nearCopy(img: RgbaImage): RgbaImage {
  const rng = seededRng(42);
  const data = Buffer.from(img.data);
  for (let i = 0; i < data.length; i += 4) {
    if (rng() >= 0.25) continue;
    for (let c = 0; c < 3; c++) {
      const v = data[i + c] + (rng() < 0.5 ? -1 : 1);
      data[i + c] = Math.min(255, Math.max(0, v));
    }
  }
  return { width: img.width, height: img.height, data };
}

export async function measureSpeed(frames: Rendered[]): Promise<SpeedResult> {
  const [a, b] = frames;
  const { width, height } = a.img;
  const pixels = width * height;
  // a fresh copy of the bytes per call, so nothing can be served from a decode cache
  const decode = await timeAsync('decodePng (Blender PNG)', pixels, () =>
    decodePng(Buffer.from(a.png)),
  );
  const same: RgbaImage = { width, height, data: Buffer.from(a.img.data) };
  const near = nearCopy(a.img);
  const pairs: Array<[string, RgbaImage]> = [
    ['identical', same],
    ['near-identical (±1/255 on 25% of pixels)', near],
    ['another frame (a cheat)', b.img],
  ];
  const compare = {} as Record<ComparisonMode, Timing[]>;
  for (const mode of ['exact', 'perceptual'] as const) {
    compare[mode] = pairs.map(([label, other]) =>
      time(label, pixels, () => compareRenders(a.img, other, { mode })),
    );
  }
  const renderMsAll = frames.map((f) => f.renderMs);
  return { width, height, renderMs: Math.min(...renderMsAll), renderMsAll, decode, compare };
}

export const perMp = (t: { medianMs: number; pixels: number }) => t.medianMs / (t.pixels / 1e6);
