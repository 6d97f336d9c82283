// Renders the verification fixtures (libs/verification/fixtures/: small PNGs + manifest.json),
// calibrates the perceptual tolerances on real renders, and times the comparisons.
//
//   npm run build && node dist/libs/verification/scripts/make-fixtures.js \
//       [--fixtures] [--calibrate] [--bench] [--crops=N] [--kernel-crops=N] [--cheat-regions=N]
//       [--seed=N] [--tolerances=JSON] [--dump=FILE] [--keep]
//
// No flag: all three. Needs Blender (CPU) on PATH or BLENDER. What it does:
//  --fixtures   a 128x72, 32-sample, 3-frame test scene: honest full frames and tiles on two tile
//               grids with different thread counts, secret-crop re-renders, CPU-kernel / BVH /
//               dither variants (blender-scripts/make_verification_fixtures.py), and every cheat
//               class made from them with sharp; manifest.json lists the images (frame region,
//               how each was made) and the comparisons with their expected verdicts.
//  --calibrate  >= 500 honest secret-crop re-renders (random regions, frames, thread counts, CPU
//               kernels, BVH layouts, dither) compared with full-frame renders, and the cheat
//               classes at random regions; prints the metric ranges, writes fixtures/calibration.json.
//               --device=CUDA|OPTIX|HIP|METAL renders the crops on that device (GPU calibration).
//  --bench      decode + compare time per megapixel on a 640x360 render (exact and perceptual).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as prettier from 'prettier';
import sharp from 'sharp';
import {
  BlenderTileWorker,
  blenderScriptPath,
  makeTestScene,
  safeBlenderCommand,
  type TileRenderRequest,
} from '@tessera/blender';
import type { PixelRegion } from '@tessera/protocol';
import { repoRoot } from '../../../scripts/lib/repo-root';
import {
  compareRenders,
  ComparisonCheck,
  ComparisonResult,
  DEFAULT_TOLERANCES,
  PerceptualTolerances,
} from '../src/compare';
import {
  fillRegion,
  type Rgba,
  cropImage,
  decodePng,
  encodePng,
  frameRegionOfTile,
  hashPixels,
  intersectRegions,
  RgbaImage,
  solidImage,
} from '../src/image';

function findRoot(): string {
  try {
    return repoRoot(__dirname);
  } catch {
    return repoRoot(process.cwd()); // compiled outside the repository
  }
}
const ROOT = findRoot();
const SCRIPTS = join(ROOT, 'blender-scripts');
const FIXTURES = join(ROOT, 'libs', 'verification', 'fixtures');
const BLENDER = process.env.BLENDER ?? 'blender';

const SCENE = { width: 128, height: 72, samples: 32, frames: 3, seed: 7 };
const FULL: PixelRegion = { x: 0, y: 0, width: SCENE.width, height: SCENE.height };
const LOW_SCALE = 4; // the "25% resolution" cheat renders a 32x18 copy of the scene

type Kernel = 'AVX2' | 'SSE41' | 'SSE2';
type Bvh = 'EMBREE' | 'BVH2';

interface RenderSettings {
  node: string;
  threads: number;
  kernel: Kernel;
  bvh: Bvh;
  dither: number;
  seed: number;
  samples: number;
  /** resolution of the scene rendered (the low-res cheat renders a smaller copy) */
  resolution?: string;
}

export interface FixtureImage {
  file: string;
  frame: number;
  /** where the image sits in the frame (the leased region) */
  region: PixelRegion;
  /** an honest render, with how it was rendered */
  render?: RenderSettings;
  /** a cheat, with how it was made */
  cheat?: { kind: string; from: string[]; how: string };
  pixelsSha256?: string;
}

type Expect = 'match' | 'mismatch';

export interface FixtureComparison {
  name: string;
  class: 'honest' | 'cheat';
  /** which verification check this models */
  check: 'overlap' | 'crop' | 'ringer' | 'tile-borders';
  /** what varies between a and b (honest), or the cheat kind */
  kind: string;
  a: string;
  b: string;
  region: PixelRegion;
  expect: { exact: Expect; perceptual: Expect };
  /** perceptual mode, cheats: the checks that catch it (at least one must fail) */
  caughtBy?: ComparisonCheck[];
  note?: string;
}

// ---------------------------------------------------------------- helpers

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string, fallback: number) => {
  const v = args.find((a) => a.startsWith(`--${name}=`));
  return v ? Number(v.slice(name.length + 3)) : fallback;
};

/** mulberry32: reproducible cheats and calibration regions */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const randInt = (rng: () => number, lo: number, hi: number) =>
  lo + Math.floor(rng() * (hi - lo + 1));

const loadPng = async (path: string) => decodePng(await readFile(path));

/** JSON as the repository's prettier formats it (`npm run lint` checks the fixtures too) */
async function writeJson(path: string, value: unknown): Promise<void> {
  const config = (await prettier.resolveConfig(path)) ?? {};
  writeFileSync(path, await prettier.format(JSON.stringify(value), { ...config, parser: 'json' }));
}

function tileGrid(
  cols: number[],
  rows: number[],
  margin: number,
  prefix: string,
): Record<string, PixelRegion> {
  // cols/rows: core edges, e.g. [0, 64, 128]; each tile is padded by `margin` on interior edges
  const tiles: Record<string, PixelRegion> = {};
  for (let j = 0; j + 1 < rows.length; j++) {
    for (let i = 0; i + 1 < cols.length; i++) {
      const x0 = i > 0 ? cols[i] - margin : cols[i];
      const x1 = i + 2 < cols.length ? cols[i + 1] + margin : cols[i + 1];
      const y0 = j > 0 ? rows[j] - margin : rows[j];
      const y1 = j + 2 < rows.length ? rows[j + 1] + margin : rows[j + 1];
      tiles[`${prefix}${i}${j}`] = { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
    }
  }
  return tiles;
}

/** make_verification_fixtures.py with one CPU kernel: renders every request, in order. */
async function renderWithKernel(
  blend: string,
  kernel: Kernel,
  requests: Array<{
    out: string;
    frame: number;
    region: PixelRegion;
    threads?: number;
    bvh?: Bvh;
    dither?: number;
    seed?: number;
    samples?: number;
  }>,
): Promise<{ usedKernel: string; renderMs: number[] }> {
  const sandbox = mkdtempSync(join(tmpdir(), 'tessera-kernel-'));
  const reqFile = join(sandbox, 'requests.json');
  writeFileSync(reqFile, JSON.stringify(requests));
  const cmd = safeBlenderCommand({
    blenderPath: BLENDER,
    script: blenderScriptPath('make_verification_fixtures.py', SCRIPTS),
    scriptArgs: ['--blend', blend, '--requests', reqFile, '--kernel', kernel],
    sandboxDir: sandbox,
  });
  // --debug-cycles makes Cycles log the kernel it loaded, which we check
  const at = cmd.args.indexOf('--python');
  cmd.args.splice(at, 0, '--debug-cycles');
  const child = spawn(cmd.command, cmd.args, { env: cmd.env, cwd: sandbox });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((res) => child.on('close', res));
  rmSync(sandbox, { recursive: true, force: true });
  const messages = out
    .split('\n')
    .filter((l) => l.startsWith('@@TESSERA@@ '))
    .map((l) => JSON.parse(l.slice(12)) as Record<string, unknown>);
  const done = messages.filter((m) => m.ok === true);
  if (code !== 0 || done.length !== requests.length) {
    throw new Error(`kernel ${kernel} renders failed (exit ${code}):\n${out.slice(-3000)}`);
  }
  const used = [...out.matchAll(/Using (\S+) CPU kernels/g)].map((m) => m[1]);
  const usedKernel = [...new Set(used)].join(',');
  const expected = { AVX2: 'AVX2', SSE41: 'SSE4.1', SSE2: 'default' }[kernel];
  if (usedKernel !== expected) {
    throw new Error(`asked Cycles for ${kernel} kernels, it used ${usedKernel || 'unknown'}`);
  }
  return { usedKernel, renderMs: done.map((m) => Number(m.renderMs)) };
}

const paint = (img: RgbaImage, rect: PixelRegion, rgba?: Rgba) =>
  fillRegion(img, rect, rgba ?? 'mean');

function noiseImage(width: number, height: number, rng: () => number): RgbaImage {
  const img = solidImage(width, height);
  for (let i = 0; i < img.data.length; i += 4) {
    for (let c = 0; c < 3; c++) img.data[i + c] = Math.floor(rng() * 256);
  }
  return img;
}

async function upscale(img: RgbaImage, width: number, height: number): Promise<RgbaImage> {
  const data = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 4 } })
    .resize(width, height, { kernel: 'lanczos3' })
    .raw()
    .toBuffer();
  return { width, height, data };
}

/** `base` with the pixels outside `keep` (image coordinates) taken from `fill` */
function keepOnly(base: RgbaImage, fill: RgbaImage, keep: (x: number, y: number) => boolean) {
  const out = { ...base, data: Buffer.from(fill.data) };
  for (let y = 0; y < base.height; y++) {
    for (let x = 0; x < base.width; x++) {
      if (keep(x, y))
        base.data.copy(
          out.data,
          (y * base.width + x) * 4,
          (y * base.width + x) * 4,
          (y * base.width + x + 1) * 4,
        );
    }
  }
  return out;
}

// ---------------------------------------------------------------- fixtures

// Grid A: 2x2 tiles, 64x36 cores, 8 px margins (overlap strips 16 px wide).
const GRID_A = tileGrid([0, 64, 128], [0, 36, 72], 8, 'A');
// Grid B: other tile borders (cores split at x=48, y=40), 6 px margins.
const GRID_B = tileGrid([0, 48, 128], [0, 40, 72], 6, 'B');
// Secret crops, placed in the tiles' interiors (not covered by any overlap strip).
const CROPS: Record<string, PixelRegion> = {
  C0: { x: 8, y: 4, width: 40, height: 20 }, // inside A00's interior (x < 56, y < 28)
  C1: { x: 80, y: 48, width: 32, height: 20 }, // inside A11's interior (x >= 72, y >= 44)
};
const THREADS: Record<string, number> = {
  A00: 1,
  A11: 1,
  A10: 2,
  A01: 2,
  B00: 2,
  B11: 2,
  B10: 1,
  B01: 1,
};
const CHEAT_TILE = 'A00';
const CHEAT_FRAME = 2;
// 10% of A00 (72x44 = 3168 px): 20x16 = 320 px, inside the interior, over the red cube
const PATCH: PixelRegion = { x: 28, y: 10, width: 20, height: 16 };

async function makeFixtures(work: string): Promise<void> {
  const t0 = performance.now();
  const blend = await makeTestScene(join(work, 'scene.blend'), {
    ...SCENE,
    scriptsDir: SCRIPTS,
    blenderPath: BLENDER,
  });
  const lowBlend = await makeTestScene(join(work, 'scene-low.blend'), {
    ...SCENE,
    width: SCENE.width / LOW_SCALE,
    height: SCENE.height / LOW_SCALE,
    scriptsDir: SCRIPTS,
    blenderPath: BLENDER,
  });
  const raw = join(work, 'raw');
  mkdirSync(raw);
  const images: Record<string, FixtureImage> = {};
  const pixels: Record<string, RgbaImage> = {};
  const base = (node: string, threads: number): RenderSettings => ({
    node,
    threads,
    kernel: 'AVX2',
    bvh: 'EMBREE',
    dither: 0,
    seed: SCENE.seed,
    samples: SCENE.samples,
  });

  // Honest renders and the cheats that need Blender, through the production tile worker.
  const worker = await BlenderTileWorker.start(blend, {
    threads: 2,
    scriptsDir: SCRIPTS,
    blenderPath: BLENDER,
  });
  const blenderVersion = worker.info.blenderVersion;
  const jobs: Array<{
    id: string;
    req: Omit<TileRenderRequest, 'out'>;
    img: Omit<FixtureImage, 'file'>;
  }> = [];
  for (const frame of [1, 2]) {
    jobs.push({
      id: `f${frame}-full`,
      req: { frame, region: FULL, threads: 2 },
      img: { frame, region: FULL, render: base('ringer', 2) },
    });
    for (const [name, region] of Object.entries({ ...GRID_A, ...GRID_B })) {
      const threads = THREADS[name];
      jobs.push({
        id: `f${frame}-${name}`,
        req: { frame, region, threads },
        img: {
          frame,
          region,
          render: base(
            name.startsWith('A') ? `node-${threads === 1 ? 'a' : 'b'}` : 'node-c',
            threads,
          ),
        },
      });
    }
    for (const [name, region] of Object.entries(CROPS)) {
      jobs.push({
        id: `f${frame}-${name}`,
        req: { frame, region, threads: 1 },
        img: { frame, region, render: base('node-d', 1) },
      });
    }
  }
  const cheatRegion = GRID_A[CHEAT_TILE];
  jobs.push({
    id: 'cheat-samples-8-src',
    req: { frame: CHEAT_FRAME, region: cheatRegion, threads: 1, samples: SCENE.samples / 8 },
    img: {
      frame: CHEAT_FRAME,
      region: cheatRegion,
      render: { ...base('node-a', 1), samples: SCENE.samples / 8 },
    },
  });
  jobs.push({
    id: 'cheat-wrong-frame-src',
    req: { frame: 3, region: cheatRegion, threads: 1 },
    img: { frame: 3, region: cheatRegion, render: base('node-a', 1) },
  });
  jobs.push({
    id: 'cheat-other-seed-src',
    req: { frame: CHEAT_FRAME, region: cheatRegion, threads: 1, seed: SCENE.seed + 1 },
    img: {
      frame: CHEAT_FRAME,
      region: cheatRegion,
      render: { ...base('node-a', 1), seed: SCENE.seed + 1 },
    },
  });
  for (const job of jobs) {
    const out = join(raw, `${job.id}.png`);
    await worker.render({ ...job.req, out });
    pixels[job.id] = await loadPng(out);
    images[job.id] = { file: `${job.id}.png`, ...job.img };
  }
  await worker.close();

  const lowWorker = await BlenderTileWorker.start(lowBlend, {
    threads: 2,
    scriptsDir: SCRIPTS,
    blenderPath: BLENDER,
  });
  const lowRegion = {
    x: cheatRegion.x / LOW_SCALE,
    y: cheatRegion.y / LOW_SCALE,
    width: cheatRegion.width / LOW_SCALE,
    height: cheatRegion.height / LOW_SCALE,
  };
  await lowWorker.render({
    frame: CHEAT_FRAME,
    region: lowRegion,
    threads: 1,
    out: join(raw, 'low.png'),
  });
  await lowWorker.close();
  const low = await loadPng(join(raw, 'low.png'));

  // Honest cross-"device" variations: other CPU kernels, BVH2, Blender's dither.
  const variants: Array<{
    id: string;
    kernel: Kernel;
    frame: number;
    region: PixelRegion;
    bvh?: Bvh;
    dither?: number;
  }> = [
    { id: 'f1-full-sse41', kernel: 'SSE41', frame: 1, region: FULL },
    { id: 'f2-full-sse41', kernel: 'SSE41', frame: 2, region: FULL },
    { id: 'f1-A10-sse41', kernel: 'SSE41', frame: 1, region: GRID_A.A10 },
    { id: 'f1-full-sse2', kernel: 'SSE2', frame: 1, region: FULL },
    { id: 'f1-full-bvh2', kernel: 'AVX2', frame: 1, region: FULL, bvh: 'BVH2' },
    { id: 'f1-full-dither', kernel: 'AVX2', frame: 1, region: FULL, dither: 1 },
  ];
  for (const kernel of ['AVX2', 'SSE41', 'SSE2'] as const) {
    const mine = variants.filter((v) => v.kernel === kernel);
    await renderWithKernel(
      blend,
      kernel,
      mine.map((v) => ({
        out: join(raw, `${v.id}.png`),
        frame: v.frame,
        region: v.region,
        threads: 2,
        bvh: v.bvh,
        dither: v.dither,
      })),
    );
    for (const v of mine) {
      pixels[v.id] = await loadPng(join(raw, `${v.id}.png`));
      images[v.id] = {
        file: `${v.id}.png`,
        frame: v.frame,
        region: v.region,
        render: {
          ...base(`cpu-${kernel.toLowerCase()}`, 2),
          kernel,
          bvh: v.bvh ?? 'EMBREE',
          dither: v.dither ?? 0,
        },
      };
    }
  }

  // Cheats on tile A00 of frame 2 (node-a's lease), made with sharp from the renders above.
  const honest = pixels[`f${CHEAT_FRAME}-${CHEAT_TILE}`];
  const { width: tw, height: th } = honest;
  const rng = prng(2024);
  const upscaled = await upscale(low, tw, th);
  const a = GRID_A[CHEAT_TILE];
  // A00's overlap bands: x >= 56 (shared with A10) or y >= 28 (shared with A01)
  const inBands = (x: number, y: number) => a.x + x >= GRID_A.A10.x || a.y + y >= GRID_A.A01.y;
  const cheats: Record<string, { img: RgbaImage; from: string[]; how: string }> = {
    black: { img: solidImage(tw, th), from: [], how: 'opaque black' },
    blank: { img: solidImage(tw, th, [0, 0, 0, 0]), from: [], how: 'fully transparent' },
    noise: { img: noiseImage(tw, th, rng), from: [], how: 'uniform random RGB, opaque' },
    'samples-8': {
      img: pixels['cheat-samples-8-src'],
      from: ['cheat-samples-8-src'],
      how: `re-rendered with ${SCENE.samples / 8} of ${SCENE.samples} samples`,
    },
    'wrong-frame': {
      img: pixels['cheat-wrong-frame-src'],
      from: ['cheat-wrong-frame-src'],
      how: 'frame 3 rendered for a frame 2 lease',
    },
    'low-res-upscaled': {
      img: upscaled,
      from: [],
      how: `rendered at 25% resolution (${low.width}x${low.height}, 1/16 of the pixels) and upscaled with sharp lanczos3`,
    },
    'interior-faked': {
      img: keepOnly(honest, upscaled, inBands),
      from: [`f${CHEAT_FRAME}-${CHEAT_TILE}`],
      how: 'overlap margins rendered honestly, interior from the 25%-resolution upscale',
    },
    'replay-other-tile': {
      img: pixels[`f${CHEAT_FRAME}-A01`],
      from: [`f${CHEAT_FRAME}-A01`],
      how: 'tile A01 of the same frame uploaded again for A00',
    },
    'replay-earlier-frame': {
      img: pixels[`f1-${CHEAT_TILE}`],
      from: [`f1-${CHEAT_TILE}`],
      how: 'the same tile of frame 1 uploaded again for frame 2',
    },
    'replay-other-seed': {
      img: pixels['cheat-other-seed-src'],
      from: ['cheat-other-seed-src'],
      how: `the same tile and frame from an earlier job with seed ${SCENE.seed + 1} (this job's seed is ${SCENE.seed})`,
    },
    'painted-10pct': {
      img: paint(honest, PATCH, [255, 0, 255, 255]),
      from: [`f${CHEAT_FRAME}-${CHEAT_TILE}`],
      how: `${PATCH.width}x${PATCH.height} px (10%) painted magenta`,
    },
    'painted-10pct-mean': {
      img: paint(honest, PATCH),
      from: [`f${CHEAT_FRAME}-${CHEAT_TILE}`],
      how: `${PATCH.width}x${PATCH.height} px (10%) painted with their own mean colour`,
    },
  };
  for (const id of ['cheat-samples-8-src', 'cheat-wrong-frame-src', 'cheat-other-seed-src']) {
    delete images[id]; // kept only as the cheat tiles themselves
  }
  for (const [kind, c] of Object.entries(cheats)) {
    const id = `cheat-${kind}`;
    pixels[id] = c.img;
    images[id] = {
      file: `${id}.png`,
      frame: CHEAT_FRAME,
      region: cheatRegion,
      cheat: { kind, from: c.from, how: c.how },
    };
  }

  // Comparisons and their expected verdicts.
  const comparisons: FixtureComparison[] = [];
  const identical = (ia: string, ib: string, region: PixelRegion) =>
    frameRegionOfTile(pixels[ia], images[ia].region, region).data.equals(
      frameRegionOfTile(pixels[ib], images[ib].region, region).data,
    );
  const honestPair = (
    check: FixtureComparison['check'],
    kind: string,
    ia: string,
    ib: string,
    region?: PixelRegion | null,
  ) => {
    const r = region ?? intersectRegions(images[ia].region, images[ib].region);
    if (!r) return;
    const same = identical(ia, ib, r);
    comparisons.push({
      name: `${check}: ${ia} vs ${ib}`,
      class: 'honest',
      check,
      kind,
      a: ia,
      b: ib,
      region: r,
      expect: { exact: same ? 'match' : 'mismatch', perceptual: 'match' },
      ...(same
        ? {}
        : { note: 'different device class: bit-exactness is not expected, compare perceptually' }),
    });
  };
  for (const f of [1, 2]) {
    const tiles = (g: Record<string, PixelRegion>) => Object.keys(g).map((n) => `f${f}-${n}`);
    for (const t of [...tiles(GRID_A), ...tiles(GRID_B)])
      honestPair('ringer', 'threads', `f${f}-full`, t, images[t].region);
    for (const [p, q] of [
      ['A00', 'A10'],
      ['A00', 'A01'],
      ['A10', 'A11'],
      ['A01', 'A11'],
    ]) {
      honestPair('overlap', 'threads', `f${f}-${p}`, `f${f}-${q}`);
    }
    for (const ta of tiles(GRID_A))
      for (const tb of tiles(GRID_B)) honestPair('tile-borders', 'tile-borders', ta, tb);
    honestPair('crop', 'threads', `f${f}-A00`, `f${f}-C0`, CROPS.C0);
    honestPair('crop', 'threads', `f${f}-A11`, `f${f}-C1`, CROPS.C1);
    honestPair('crop', 'tile-borders', `f${f}-B00`, `f${f}-C0`, CROPS.C0);
    honestPair('crop', 'tile-borders', `f${f}-full`, `f${f}-C1`, CROPS.C1);
  }
  honestPair('ringer', 'cpu-kernel-sse41', 'f1-full', 'f1-full-sse41', FULL);
  honestPair('ringer', 'cpu-kernel-sse41', 'f2-full', 'f2-full-sse41', FULL);
  honestPair('ringer', 'cpu-kernel-sse2', 'f1-full', 'f1-full-sse2', FULL);
  honestPair('ringer', 'bvh2', 'f1-full', 'f1-full-bvh2', FULL);
  honestPair('ringer', 'dither', 'f1-full', 'f1-full-dither', FULL);
  honestPair('ringer', 'cpu-kernel-sse2-vs-sse41', 'f1-full-sse41', 'f1-full-sse2', FULL);
  honestPair('overlap', 'cpu-kernel-sse41', 'f1-A00', 'f1-A10-sse41');
  honestPair('ringer', 'cpu-kernel-sse41', 'f1-full-sse41', 'f1-A11', GRID_A.A11);
  honestPair('crop', 'cpu-kernel-sse41', 'f1-full-sse41', 'f1-C0', CROPS.C0);

  const f = CHEAT_FRAME;
  const cheatChecks: Array<[FixtureComparison['check'], string, PixelRegion | null]> = [
    ['ringer', `f${f}-full`, cheatRegion],
    ['ringer', `f${f}-full-sse41`, cheatRegion],
    ['overlap', `f${f}-A10`, intersectRegions(cheatRegion, GRID_A.A10)],
    ['overlap', `f${f}-A01`, intersectRegions(cheatRegion, GRID_A.A01)],
    ['crop', `f${f}-C0`, CROPS.C0],
  ];
  for (const kind of Object.keys(cheats)) {
    const id = `cheat-${kind}`;
    for (const [check, ref, region] of cheatChecks) {
      if (!region) throw new Error(`no overlap for ${check} ${ref}`);
      const same = identical(ref, id, region);
      const perceptual = compareRenders(
        frameRegionOfTile(pixels[ref], images[ref].region, region),
        frameRegionOfTile(pixels[id], images[id].region, region),
        { mode: 'perceptual' },
      );
      comparisons.push({
        name: `${check}: ${kind} vs ${ref}`,
        class: 'cheat',
        check,
        kind,
        a: ref,
        b: id,
        region,
        expect: { exact: same ? 'match' : 'mismatch', perceptual: perceptual.verdict },
        ...(perceptual.verdict === 'mismatch' ? { caughtBy: perceptual.failed } : {}),
        ...(same || perceptual.verdict === 'match'
          ? { note: 'the cheat left these pixels (nearly) right: this check alone cannot see it' }
          : {}),
      });
    }
  }

  // Write: fixtures/ holds exactly these files.
  mkdirSync(FIXTURES, { recursive: true });
  for (const file of readdirSync(FIXTURES)) {
    if (file.endsWith('.png') || file === 'manifest.json') rmSync(join(FIXTURES, file));
  }
  let bytes = 0;
  for (const [id, img] of Object.entries(images)) {
    const png = await encodePng(pixels[id]);
    bytes += png.length;
    writeFileSync(join(FIXTURES, img.file), png);
    img.pixelsSha256 = hashPixels(pixels[id]);
  }
  const manifest = {
    description:
      'Verification fixtures: honest renders and cheats of one small scene, and the comparisons the unit tests run. Made by libs/verification/scripts/make-fixtures.ts; do not edit by hand.',
    generatedAt: new Date().toISOString(),
    blender: { version: blenderVersion, device: 'CPU' },
    scene: {
      ...SCENE,
      dither: 0,
      denoising: false,
      adaptiveSampling: false,
      maker: 'blender-scripts/make_test_scene.py',
    },
    grids: { A: { margin: 8, tiles: GRID_A }, B: { margin: 6, tiles: GRID_B } },
    crops: CROPS,
    cheatTarget: {
      tile: CHEAT_TILE,
      frame: CHEAT_FRAME,
      region: cheatRegion,
      node: 'node-a',
      paintedPatch: PATCH,
    },
    images,
    comparisons,
  };
  await writeJson(join(FIXTURES, 'manifest.json'), manifest);
  const honestN = comparisons.filter((c) => c.class === 'honest').length;
  console.log(
    `fixtures: ${Object.keys(images).length} images (${(bytes / 1024).toFixed(0)} KiB), ${honestN} honest and ${comparisons.length - honestN} cheat comparisons, ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  for (const c of comparisons.filter((c) => c.class === 'cheat')) {
    console.log(
      `  ${c.name.padEnd(48)} exact ${c.expect.exact.padEnd(8)} perceptual ${c.expect.perceptual.padEnd(8)} ${c.caughtBy?.join(',') ?? ''}`,
    );
  }
}

// ---------------------------------------------------------------- calibration

interface Sample {
  cls: string;
  region: PixelRegion;
  result: ComparisonResult;
}

const METRICS = {
  pixelmatch: (r: ComparisonResult) => r.metrics.pixelmatchRatio ?? 0,
  strongDelta: (r: ComparisonResult) => r.metrics.strongDeltaRatio ?? 0,
  blockMean: (r: ComparisonResult) => r.metrics.worstBlock?.meanDelta ?? 0,
  blockStrongDelta: (r: ComparisonResult) => r.metrics.worstStrongBlock?.ratio ?? 0,
  noise: (r: ComparisonResult) => spread(r.metrics.noise?.ratio ?? 1),
  blockNoise: (r: ComparisonResult) => spread(r.metrics.worstNoiseBlock?.ratio ?? 1),
} as const;
const spread = (r: number) => (r >= 1 ? r : 1 / r);

function randomRegion(rng: () => number, align = 1): PixelRegion {
  const width = randInt(rng, 16 / align, 64 / align) * align;
  const height = randInt(rng, 12 / align, 48 / align) * align;
  const x = randInt(rng, 0, (SCENE.width - width) / align) * align;
  const y = randInt(rng, 0, (SCENE.height - height) / align) * align;
  return { x, y, width, height };
}

async function calibrate(work: string): Promise<void> {
  const t0 = performance.now();
  // --tolerances='{"maxBlockNoiseRatio":2}': try other tolerances (calibration.json is then not written)
  const tolArg = args.find((a) => a.startsWith('--tolerances='))?.slice(13);
  const tolerances: Partial<PerceptualTolerances> | undefined = tolArg
    ? JSON.parse(tolArg)
    : undefined;
  const compare = (a: RgbaImage, b: RgbaImage, mode: 'exact' | 'perceptual') =>
    compareRenders(a, b, { mode, tolerances });
  const workerCrops = option('crops', 520);
  const kernelCrops = option('kernel-crops', 320);
  const rng = prng(option('seed', 7));
  const blend = await makeTestScene(join(work, 'cal.blend'), {
    ...SCENE,
    scriptsDir: SCRIPTS,
    blenderPath: BLENDER,
  });
  const lowBlend = await makeTestScene(join(work, 'cal-low.blend'), {
    ...SCENE,
    width: SCENE.width / LOW_SCALE,
    height: SCENE.height / LOW_SCALE,
    scriptsDir: SCRIPTS,
    blenderPath: BLENDER,
  });
  const dir = join(work, 'cal');
  mkdirSync(dir);
  const frames = [1, 2, 3];
  const worker = await BlenderTileWorker.start(blend, {
    threads: 2,
    scriptsDir: SCRIPTS,
    blenderPath: BLENDER,
  });
  const blenderVersion = worker.info.blenderVersion;
  const full: Record<string, RgbaImage> = {};
  const renderFull = async (key: string, req: Omit<TileRenderRequest, 'out'>) => {
    const out = join(dir, `${key}.png`);
    await worker.render({ ...req, out });
    full[key] = await loadPng(out);
  };
  for (const f of frames) {
    await renderFull(`f${f}`, { frame: f, region: FULL, threads: 2 });
    await renderFull(`f${f}-s8`, {
      frame: f,
      region: FULL,
      threads: 2,
      samples: SCENE.samples / 8,
    });
    await renderFull(`f${f}-seed`, { frame: f, region: FULL, threads: 2, seed: SCENE.seed + 1 });
  }

  // Honest: secret-crop re-renders, through the tile worker (thread counts) ... With
  // --device=CUDA (OPTIX, HIP, METAL) the crops come from that device instead: the comparison
  // with the CPU's full frames is then the cross-device calibration (README, TODO).
  const device =
    args
      .find((a) => a.startsWith('--device='))
      ?.slice(9)
      .toUpperCase() ?? 'CPU';
  const cropWorker =
    device === 'CPU'
      ? worker
      : await BlenderTileWorker.start(blend, { device, scriptsDir: SCRIPTS, blenderPath: BLENDER });
  const label = device === 'CPU' ? 'threads 1/2 vs 2' : `${device} vs CPU`;
  const honest: Sample[] = [];
  const renderMs: number[] = [];
  for (let i = 0; i < workerCrops; i++) {
    const region = randomRegion(rng);
    const frame = frames[randInt(rng, 0, 2)];
    const threads = randInt(rng, 1, 2);
    const out = join(dir, `crop-${i}.png`);
    renderMs.push((await cropWorker.render({ frame, region, threads, out })).renderMs);
    const crop = await loadPng(out);
    const ref = cropImage(full[`f${frame}`], region);
    for (const mode of ['exact', 'perceptual'] as const) {
      honest.push({ cls: `${mode}: ${label}`, region, result: compare(ref, crop, mode) });
    }
  }
  if (cropWorker !== worker) await cropWorker.close();
  await worker.close();

  // ... and through other CPU kernels, BVH2 and dither (the cross-device proxies).
  const rest = kernelCrops;
  const plan: Array<{ kernel: Kernel; bvh?: Bvh; dither?: number; cls: string; n: number }> = [
    { kernel: 'SSE41', cls: 'SSE4.1 kernel', n: Math.round(rest * 0.3) },
    { kernel: 'SSE2', cls: 'SSE2 kernel', n: Math.round(rest * 0.3) },
    { kernel: 'AVX2', bvh: 'BVH2', cls: 'BVH2 layout', n: Math.round(rest * 0.2) },
    {
      kernel: 'AVX2',
      dither: 1,
      cls: 'dither 1.0',
      n: rest - 2 * Math.round(rest * 0.3) - Math.round(rest * 0.2),
    },
  ];
  const kernelRequests: Record<
    Kernel,
    Array<{
      out: string;
      frame: number;
      region: PixelRegion;
      threads: number;
      bvh?: Bvh;
      dither?: number;
      cls: string;
    }>
  > = { AVX2: [], SSE41: [], SSE2: [] };
  let k = 0;
  for (const p of plan) {
    for (let i = 0; i < p.n; i++) {
      kernelRequests[p.kernel].push({
        out: join(dir, `k-${k++}.png`),
        frame: frames[randInt(rng, 0, 2)],
        region: randomRegion(rng),
        threads: randInt(rng, 1, 2),
        bvh: p.bvh,
        dither: p.dither,
        cls: p.cls,
      });
    }
  }
  for (const kernel of ['AVX2', 'SSE41', 'SSE2'] as const) {
    const reqs = kernelRequests[kernel];
    if (reqs.length === 0) continue;
    await renderWithKernel(blend, kernel, reqs);
    for (const r of reqs) {
      const crop = await loadPng(r.out);
      const ref = cropImage(full[`f${r.frame}`], r.region);
      honest.push({
        cls: `perceptual: ${r.cls}`,
        region: r.region,
        result: compare(ref, crop, 'perceptual'),
      });
      honest.push({
        cls: `exact: ${r.cls}`,
        region: r.region,
        result: compare(ref, crop, 'exact'),
      });
    }
  }

  // Cheats at random regions (coordinates multiples of 4, so the 25% render maps exactly).
  const lowWorker = await BlenderTileWorker.start(lowBlend, {
    threads: 2,
    scriptsDir: SCRIPTS,
    blenderPath: BLENDER,
  });
  const lowFull: Record<number, RgbaImage> = {};
  for (const f of frames) {
    const out = join(dir, `low-${f}.png`);
    await lowWorker.render({
      frame: f,
      region: { x: 0, y: 0, width: SCENE.width / LOW_SCALE, height: SCENE.height / LOW_SCALE },
      threads: 2,
      out,
    });
    lowFull[f] = await loadPng(out);
  }
  await lowWorker.close();
  const cheats: Sample[] = [];
  const cheatRegions = option('cheat-regions', 200);
  for (let i = 0; i < cheatRegions; i++) {
    const region = randomRegion(rng, LOW_SCALE);
    const frame = frames[randInt(rng, 0, 2)];
    const ref = cropImage(full[`f${frame}`], region);
    const other = frames.filter((f2) => f2 !== frame)[randInt(rng, 0, 1)];
    let shifted = randomRegion(rng);
    shifted = {
      ...shifted,
      width: region.width,
      height: region.height,
      x: Math.min(shifted.x, SCENE.width - region.width),
      y: Math.min(shifted.y, SCENE.height - region.height),
    };
    const lowCrop = cropImage(lowFull[frame], {
      x: region.x / LOW_SCALE,
      y: region.y / LOW_SCALE,
      width: region.width / LOW_SCALE,
      height: region.height / LOW_SCALE,
    });
    const pw = Math.max(1, Math.round(region.width * Math.sqrt(0.1)));
    const ph = Math.max(1, Math.round((region.width * region.height * 0.1) / pw));
    const patch = {
      x: randInt(rng, 0, region.width - pw),
      y: randInt(rng, 0, region.height - ph),
      width: pw,
      height: ph,
    };
    const variants: Record<string, RgbaImage> = {
      black: solidImage(region.width, region.height),
      blank: solidImage(region.width, region.height, [0, 0, 0, 0]),
      noise: noiseImage(region.width, region.height, rng),
      'samples-8': cropImage(full[`f${frame}-s8`], region),
      'wrong-frame': cropImage(full[`f${other}`], region),
      'low-res-upscaled': await upscale(lowCrop, region.width, region.height),
      'replay-other-region': cropImage(full[`f${frame}`], shifted),
      'replay-other-seed': cropImage(full[`f${frame}-seed`], region),
      'painted-10pct': paint(ref, patch, [
        randInt(rng, 0, 255),
        randInt(rng, 0, 255),
        randInt(rng, 0, 255),
        255,
      ]),
      'painted-10pct-mean': paint(ref, patch),
    };
    for (const [cls, img] of Object.entries(variants)) {
      cheats.push({ cls, region, result: compare(ref, img, 'perceptual') });
      cheats.push({ cls: `exact: ${cls}`, region, result: compare(ref, img, 'exact') });
    }
  }

  // Report
  const summary = (samples: Sample[]) => {
    const byClass = new Map<string, Sample[]>();
    for (const s of samples) byClass.set(s.cls, [...(byClass.get(s.cls) ?? []), s]);
    return [...byClass].map(([cls, ss]) => {
      const row: Record<string, unknown> = {
        class: cls,
        n: ss.length,
        rejected: ss.filter((s) => s.result.verdict === 'mismatch').length,
        exactlyEqual: ss.filter((s) => s.result.exact).length,
        maxChannelDelta: Math.max(...ss.map((s) => s.result.metrics.maxChannelDelta)),
      };
      if (!cls.startsWith('exact')) {
        for (const [m, get] of Object.entries(METRICS)) {
          const v = ss.map((s) => get(s.result)).sort((x, y) => x - y);
          row[m] = {
            min: round(v[0]),
            p50: round(v[Math.floor(v.length / 2)]),
            max: round(v[v.length - 1]),
          };
        }
        const catches: Record<string, number> = {};
        for (const s of ss) for (const c of s.result.failed) catches[c] = (catches[c] ?? 0) + 1;
        row.failedChecks = catches;
        const missed = ss.filter((s) => !s.result.exact && s.result.verdict === 'match');
        if (samples === cheats) {
          row.missed = missed.length;
          row.missedWorst = missed
            .sort((x, y) => y.result.metrics.maxChannelDelta - x.result.metrics.maxChannelDelta)
            .slice(0, 3)
            .map((s) => ({
              region: s.region,
              differingPixels: s.result.metrics.differingPixels,
              maxChannelDelta: s.result.metrics.maxChannelDelta,
              meanAbsDelta: round(s.result.metrics.meanAbsDelta),
            }));
        }
      }
      return row;
    });
  };
  const round = (v: number) => Math.round(v * 10000) / 10000;
  const honestRows = summary(honest);
  const cheatRows = summary(cheats);
  const honestRenders = honest.length / 2;
  const falseRejections = honest.filter(
    (s) =>
      s.result.verdict === 'mismatch' &&
      (s.cls.startsWith('perceptual') || s.cls.includes('threads')),
  ).length;
  const report = {
    generatedAt: new Date().toISOString(),
    blender: blenderVersion,
    scene: SCENE,
    tolerances: { ...DEFAULT_TOLERANCES, ...tolerances },
    honestRenders,
    honestComparisons: honest.length,
    falseRejections,
    cheatRegions,
    medianCropRenderMs: renderMs.sort((x, y) => x - y)[Math.floor(renderMs.length / 2)],
    honest: honestRows,
    cheats: cheatRows,
    seconds: Math.round((performance.now() - t0) / 1000),
  };
  const file = device === 'CPU' ? 'calibration.json' : `calibration-${device.toLowerCase()}.json`;
  if (!tolerances) await writeJson(join(FIXTURES, file), { ...report, device });
  const dump = args.find((a) => a.startsWith('--dump='))?.slice(7);
  if (dump) {
    const raw = (ss: Sample[]) =>
      ss.map((x) => ({
        cls: x.cls,
        region: x.region,
        exact: x.result.exact,
        metrics: x.result.metrics,
      }));
    writeFileSync(dump, JSON.stringify({ honest: raw(honest), cheats: raw(cheats) }));
  }
  console.log(`tolerances: ${JSON.stringify(report.tolerances)}`);
  const range = (o: unknown) => {
    const r = o as { min: number; p50: number; max: number } | undefined;
    return r ? `${r.min}/${r.p50}/${r.max}` : '';
  };
  for (const [title, rows] of [
    ['honest', honestRows],
    ['cheats (perceptual rows; missed = pixels differ but accepted)', cheatRows],
  ] as const) {
    console.log(`${title}: class n rejected equal [missed] | min/p50/max of each metric`);
    for (const r of rows) {
      const metrics = Object.keys(METRICS).map((m) => `${m} ${range(r[m])}`);
      console.log(
        `  ${String(r.class).padEnd(30)} ${r.n} ${r.rejected} ${r.exactlyEqual} ${r.missed ?? ''} | ${String(r.class).startsWith('exact') ? '' : metrics.join(' | ')}`,
      );
    }
  }
  console.log(
    `calibration: ${honestRenders} honest renders, ${honest.length} comparisons, ${falseRejections} false rejections`,
  );
}

// ---------------------------------------------------------------- timings

async function bench(work: string): Promise<void> {
  const blend = await makeTestScene(join(work, 'bench.blend'), {
    width: 640,
    height: 360,
    samples: 32,
    frames: 1,
    seed: SCENE.seed,
    scriptsDir: SCRIPTS,
    blenderPath: BLENDER,
  });
  const worker = await BlenderTileWorker.start(blend, {
    threads: 2,
    scriptsDir: SCRIPTS,
    blenderPath: BLENDER,
  });
  const region = { x: 0, y: 0, width: 640, height: 360 };
  const files: Record<string, string> = {};
  const renders: number[] = [];
  for (const [key, samples] of [
    ['a', 32],
    ['b', 32],
    ['s8', 4],
  ] as const) {
    files[key] = join(work, `bench-${key}.png`);
    const r = await worker.render({ frame: 1, region, threads: 2, samples, out: files[key] });
    if (samples === 32) renders.push(r.renderMs);
  }
  await worker.close();
  const bufs = Object.fromEntries(
    await Promise.all(Object.entries(files).map(async ([k, f]) => [k, await readFile(f)] as const)),
  );
  const mp = (640 * 360) / 1e6;
  // median and fastest of n runs, after a warm-up long enough for V8 to optimise the loops
  // (the fastest is what an idle machine gets; a shared one is slower)
  const time = async (fn: () => Promise<unknown> | unknown, n = 41) => {
    for (let i = 0; i < 20; i++) await fn();
    const t: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = performance.now();
      await fn();
      t.push(performance.now() - s);
    }
    t.sort((x, y) => x - y);
    return { median: t[Math.floor(n / 2)], min: t[0] };
  };
  const imgs = {
    a: await decodePng(bufs.a),
    b: await decodePng(bufs.b),
    s8: await decodePng(bufs.s8),
  };
  const cmp = (b: RgbaImage, mode: 'exact' | 'perceptual') => () =>
    compareRenders(imgs.a, b, { mode });
  const rows: Array<[string, { median: number; min: number }]> = [
    ['decodePng (one 640x360 PNG)', await time(() => decodePng(bufs.a))],
    ['exact, identical', await time(cmp(imgs.b, 'exact'))],
    ['exact, differing (samples/8)', await time(cmp(imgs.s8, 'exact'))],
    ['perceptual, identical', await time(cmp(imgs.b, 'perceptual'))],
    ['perceptual, differing (samples/8)', await time(cmp(imgs.s8, 'perceptual'))],
  ];
  const renderMs = renders.sort((x, y) => x - y)[0];
  console.log(
    `bench: 640x360 (${mp.toFixed(3)} MP), 32 samples, render ${renderMs} ms in the tile worker (2 threads); median (fastest)`,
  );
  const perMp = (ms: number) => (ms / mp).toFixed(1);
  for (const [name, { median, min }] of rows) {
    console.log(
      `  ${name.padEnd(36)} ${median.toFixed(2)} (${min.toFixed(2)}) ms  ${perMp(median)} (${perMp(min)}) ms/MP`,
    );
  }
  const decode = rows[0][1];
  for (const [i, name] of [
    [2, 'exact'],
    [4, 'perceptual'],
  ] as const) {
    const median = 2 * decode.median + rows[i][1].median;
    const min = 2 * decode.min + rows[i][1].min;
    const pct = (ms: number) => ((100 * ms) / renderMs).toFixed(2);
    console.log(
      `  decode both + ${name} (differing): ${median.toFixed(1)} (${min.toFixed(1)}) ms = ${perMp(median)} (${perMp(min)}) ms/MP = ${pct(median)}% (${pct(min)}%) of the render`,
    );
  }
}

async function main(): Promise<void> {
  const all = !flag('fixtures') && !flag('calibrate') && !flag('bench');
  const work = mkdtempSync(join(tmpdir(), 'tessera-fixtures-'));
  try {
    if (all || flag('fixtures')) await makeFixtures(work);
    if (all || flag('calibrate')) await calibrate(work);
    if (all || flag('bench')) await bench(work);
  } finally {
    if (flag('keep')) console.log(`work files kept in ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
