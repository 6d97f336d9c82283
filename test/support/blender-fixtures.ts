// Real-Blender helpers for e2e tests: test scenes, plain full-frame renders to compare against,
// decoded pixels. Needs only Blender (no database, no Redis).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { makeTestScene, PixelRegion, TestSceneOptions } from '@tessera/blender';

export const BLENDER = process.env.BLENDER_PATH || 'blender';

/** The small deterministic scene (160x90, 16 samples, 3 frames unless told otherwise). */
export function testScene(out: string, opts: TestSceneOptions = {}): Promise<string> {
  return makeTestScene(out, {
    blenderPath: BLENDER,
    width: 160,
    height: 90,
    samples: 16,
    frames: 3,
    seed: 7,
    ...opts,
  });
}

/**
 * Renders frames the plain way, one Blender process: `blender -b scene -o dir/full_#### -f 2,3`.
 * Returns the PNG path of each frame.
 */
export async function renderFullFrames(
  blend: string,
  frames: number[],
  outDir: string,
): Promise<Map<number, string>> {
  await promisify(execFile)(
    BLENDER,
    [
      '-b',
      blend,
      '--factory-startup',
      '-Y',
      '-o',
      join(outDir, 'full_####'),
      '-f',
      frames.join(','),
    ],
    { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
  );
  const paths = new Map<number, string>();
  for (const f of frames) {
    const p = join(outDir, `full_${String(f).padStart(4, '0')}.png`);
    if (!existsSync(p)) throw new Error(`blender wrote no frame ${f} in ${outDir}`);
    paths.set(f, p);
  }
  return paths;
}

export interface Pixels {
  data: Buffer;
  width: number;
  height: number;
}

/** Decoded RGBA pixels (optionally a region of them), to compare images exactly. */
export async function rgbaPixels(image: string | Buffer, region?: PixelRegion): Promise<Pixels> {
  let img = sharp(image).ensureAlpha();
  if (region) {
    img = img.extract({
      left: region.x,
      top: region.y,
      width: region.width,
      height: region.height,
    });
  }
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Count of differing channel values and the largest difference, for failure messages. */
export function pixelDiff(a: Pixels, b: Pixels): { differing: number; max: number } {
  if (a.width !== b.width || a.height !== b.height) return { differing: Infinity, max: Infinity };
  let differing = 0;
  let max = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = Math.abs(a.data[i] - b.data[i]);
    if (d) differing++;
    if (d > max) max = d;
  }
  return { differing, max };
}

/** 2x2 grid over the frame, each tile padded by `margin` pixels on its interior edges. */
export function overlappingQuads(width: number, height: number, margin: number): PixelRegion[] {
  const cx = Math.floor(width / 2);
  const cy = Math.floor(height / 2);
  const cols = [
    { x: 0, width: cx + margin },
    { x: cx - margin, width: width - cx + margin },
  ];
  const rows = [
    { y: 0, height: cy + margin },
    { y: cy - margin, height: height - cy + margin },
  ];
  return rows.flatMap((r) =>
    cols.map((c) => ({ x: c.x, y: r.y, width: c.width, height: r.height })),
  );
}
