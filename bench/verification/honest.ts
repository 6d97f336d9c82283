// Benchmark 2: false rejections of honest work. A small scene (320x180, 32 samples, 3 frames) is
// rendered as full frames and on three tile layouts with different borders and margins, tiles
// alternating between 1 and 2 threads, plus a secret crop of every tile re-rendered with the
// other thread count. Every honest pair is compared in exact and perceptual mode:
//   tiles vs full frames, overlap strips inside each layout, the pixels shared by tiles of
//   different layouts, crop re-renders vs tiles, and random crops of tiles vs full frames.
// Then the same tiles and crops against full frames rendered with Cycles' SSE4.1 kernel (honest,
// not bit-identical: the nearest thing to another device class here), perceptual mode only.
import type { PixelRegion } from '@tessera/protocol';
import {
  frameRegionOfTile,
  gridTiles,
  intersectRegions,
  planCropCheck,
  policyFor,
  randomInt,
  RgbaImage,
  seededRng,
  TileGeometry,
} from '@tessera/verification';
import { cutFrame } from './cheats';
import { renderWithSse41 } from './kernel';
import { SceneRenderer, SceneSpec } from './render';
import { HonestTally } from './tally';

export const SMALL_SCENE: SceneSpec = { width: 320, height: 180, samples: 32, frames: 3, seed: 7 };
export const HONEST_FRAMES = [1, 2, 3];
export const LAYOUTS = [
  { name: '2x2, 8 px', tilesX: 2, tilesY: 2, overlap: 8 },
  { name: '3x3, 6 px', tilesX: 3, tilesY: 3, overlap: 6 },
  { name: '5x4, 4 px', tilesX: 5, tilesY: 4, overlap: 4 },
];
export const RANDOM_CROPS_PER_TILE = 4;

interface RenderedTile {
  layout: number;
  geometry: TileGeometry;
  tx: number;
  ty: number;
  threads: number;
  img: RgbaImage;
  crops: Array<{ region: PixelRegion; img: RgbaImage }>;
}

export interface HonestResult {
  sameDevice: HonestTally[];
  crossKernel: HonestTally[];
  renders: number;
  renderSeconds: number;
  kernelRenders: number;
}

export async function measureHonest(
  workDir: string,
  log: (line: string) => void,
): Promise<HonestResult> {
  const policy = policyFor('standard');
  const rng = seededRng(7_0_7);
  const layouts = LAYOUTS.map((l) =>
    gridTiles(SMALL_SCENE.width, SMALL_SCENE.height, l.tilesX, l.tilesY, l.overlap),
  );
  log(
    `small scene ${SMALL_SCENE.width}x${SMALL_SCENE.height}, layouts ${LAYOUTS.map((l) => l.name).join(' / ')}`,
  );
  const r = await SceneRenderer.open(workDir, 'small', SMALL_SCENE);
  const full = new Map<number, RgbaImage>();
  const tiles = new Map<number, RenderedTile[]>();
  try {
    for (const frame of HONEST_FRAMES) {
      full.set(frame, (await r.render({ frame, region: r.full, threads: 2 })).img);
      const list: RenderedTile[] = [];
      for (const [l, grid] of layouts.entries()) {
        const { tilesX } = LAYOUTS[l];
        for (const [i, geometry] of grid.entries()) {
          const tx = i % tilesX;
          const ty = Math.floor(i / tilesX);
          const threads = (tx + ty + l) % 2 === 0 ? 1 : 2;
          const img = (await r.render({ frame, region: geometry.region, threads })).img;
          const plan = planCropCheck(geometry.region, geometry.margins, rng, policy);
          const crops = [];
          for (const region of plan.crops) {
            const other = threads === 1 ? 2 : 1;
            crops.push({ region, img: (await r.render({ frame, region, threads: other })).img });
          }
          list.push({ layout: l, geometry, tx, ty, threads, img, crops });
        }
      }
      tiles.set(frame, list);
      log(`frame ${frame}: full frame, ${list.length} tiles and their secret crops`);
    }
  } finally {
    await r.close();
  }
  const kernelFull = await renderWithSse41(
    r.blend,
    workDir,
    HONEST_FRAMES.map((frame) => ({ frame, region: r.full, threads: 2 })),
  );
  log(`SSE4.1 kernel: ${kernelFull.length} full frames`);

  const vsFull = new HonestTally(
    'small: tiles vs full frame',
    'every tile of 3 layouts vs the same pixels of the full frame (1 or 2 vs 2 threads)',
  );
  const strips = new HonestTally(
    'small: overlap strips',
    'every strip between neighbours inside each layout (1 vs 2 threads)',
  );
  const across = new HonestTally(
    'small: across layouts',
    'pixels shared by tiles of different layouts (other borders and margins), >= 8x8',
  );
  const crops = new HonestTally(
    'small: secret crops',
    'a planCropCheck crop of every tile re-rendered with the other thread count vs the tile',
  );
  const random = new HonestTally(
    'small: random crops',
    `${RANDOM_CROPS_PER_TILE} random sub-regions (8-96 x 8-64 px) of every tile vs the full frame`,
  );
  const kTiles = new HonestTally(
    'SSE4.1 kernel: tiles',
    'every tile (AVX2) vs the same pixels of an SSE4.1 full frame',
    false,
  );
  const kCrops = new HonestTally(
    'SSE4.1 kernel: secret crops',
    'every crop re-render (AVX2) vs the SSE4.1 full frame',
    false,
  );
  const kRandom = new HonestTally(
    'SSE4.1 kernel: random crops',
    `${RANDOM_CROPS_PER_TILE} random sub-regions of every tile vs the SSE4.1 full frame`,
    false,
  );

  for (const frame of HONEST_FRAMES) {
    const ref = full.get(frame)!;
    const kernel = kernelFull[HONEST_FRAMES.indexOf(frame)];
    const list = tiles.get(frame)!;
    for (const t of list) {
      const where = `f${frame} ${LAYOUTS[t.layout].name} tile ${t.tx},${t.ty}`;
      vsFull.add(cutFrame(ref, t.geometry.region), t.img, where);
      kTiles.add(cutFrame(kernel, t.geometry.region), t.img, where);
      for (const c of t.crops) {
        crops.add(frameRegionOfTile(t.img, t.geometry.region, c.region), c.img, `${where} crop`);
        kCrops.add(cutFrame(kernel, c.region), c.img, `${where} crop`);
      }
      for (let k = 0; k < RANDOM_CROPS_PER_TILE; k++) {
        const g = t.geometry.region;
        const width = randomInt(rng, Math.min(8, g.width), Math.min(96, g.width));
        const height = randomInt(rng, Math.min(8, g.height), Math.min(64, g.height));
        const region = {
          x: randomInt(rng, g.x, g.x + g.width - width),
          y: randomInt(rng, g.y, g.y + g.height - height),
          width,
          height,
        };
        const mine = frameRegionOfTile(t.img, g, region);
        random.add(cutFrame(ref, region), mine, `${where} random crop`);
        kRandom.add(cutFrame(kernel, region), mine, `${where} random crop`);
      }
    }
    for (const [ai, a] of list.entries()) {
      for (const b of list.slice(ai + 1)) {
        const shared = intersectRegions(a.geometry.region, b.geometry.region);
        if (!shared) continue;
        const pa = frameRegionOfTile(a.img, a.geometry.region, shared);
        const pb = frameRegionOfTile(b.img, b.geometry.region, shared);
        const where = `f${frame} ${LAYOUTS[a.layout].name} ${a.tx},${a.ty} / ${LAYOUTS[b.layout].name} ${b.tx},${b.ty}`;
        if (a.layout === b.layout) {
          const neighbours = Math.abs(a.tx - b.tx) + Math.abs(a.ty - b.ty) === 1;
          if (neighbours) strips.add(pa, pb, where);
        } else if (shared.width >= 8 && shared.height >= 8) {
          across.add(pa, pb, where);
        }
      }
    }
  }
  return {
    sameDevice: [vsFull, strips, across, crops, random],
    crossKernel: [kTiles, kCrops, kRandom],
    renders: r.renders,
    renderSeconds: r.wallMs / 1000,
    kernelRenders: kernelFull.length,
  };
}
