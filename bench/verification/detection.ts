// Benchmark 1a: per-check detection, measured on real renders of the demo-like scene.
//
// One frame of 640x360 (32 samples) is cut into the demo's 4x4 tiles with 8 px margins and leased
// in a checkerboard: the suspect node renders the "black" squares with 1 thread, honest
// neighbours the others with 2, so every suspect tile has honest neighbours on all its interior
// edges. For every suspect tile (two frames) and every cheat class we run, with the real
// compareRenders in both modes, the checks the coordinator runs (verification.service.ts):
//   - overlap: each strip shared with an honest neighbour, cut out of both tiles;
//   - crop: secret crops placed by planCropCheck (standard policy) inside the tile's interior and
//     re-rendered by a checker through the tile worker, against the same pixels of the tile;
//   - ringer: the whole tile against its known answer (an honest full-frame render).
// The same renders give honest comparisons (strips, crops, tiles) for benchmark 2.
import type { PixelRegion } from '@tessera/protocol';
import {
  frameRegionOfTile,
  gridTiles,
  intersectRegions,
  planCropCheck,
  policyFor,
  regionArea,
  regionsIntersect,
  seededRng,
  TileGeometry,
} from '@tessera/verification';
import { CHEAT_CLASSES, CheatClass, CheatSources, cutFrame, FakedTile } from './cheats';
import { Rendered, SceneRenderer, SceneSpec } from './render';
import { compareBoth, HonestTally, PairResult, SplitTally } from './tally';

export const DEMO_SCENE: SceneSpec = { width: 640, height: 360, samples: 32, frames: 3, seed: 7 };
export const DEMO_GRID = { tilesX: 4, tilesY: 4, overlap: 8 };
export const DETECTION_FRAMES = [1, 2, 3];
export const SUSPECT_THREADS = 1;
export const HONEST_THREADS = 2;
export const OTHER_SEED = DEMO_SCENE.seed + 1;
export const FEW_SAMPLES = Math.max(1, Math.floor(DEMO_SCENE.samples / 8));

export interface ClassResult {
  cls: CheatClass;
  /** faked tiles, and how many of them differ from the honest render at all */
  instances: number;
  wrongInstances: number;
  /** every strip between a suspect tile and an honest neighbour */
  strips: SplitTally;
  /** per suspect tile: any of its strips flagged */
  overlapTiles: SplitTally;
  /** per crop check (cropsPerCheck crops each) */
  crops: SplitTally;
  /** the whole tile against its known answer */
  ringer: SplitTally;
}

export interface DetectionResult {
  grid: TileGeometry[];
  suspectTilesPerFrame: number;
  instances: number;
  checksPerTile: number;
  crops: number;
  cropPixels: number;
  classes: ClassResult[];
  honest: HonestTally[];
  /** full-frame renders (2 threads), for the speed benchmark */
  fullFrames: Rendered[];
  /** mean wall ms of a tile / a crop rendered with 2 threads, and their mean pixels */
  timing: { tileMs: number; tilePixels: number; cropMs: number; cropPixels: number };
  renders: number;
  renderSeconds: number;
}

const isSuspect = (i: number) =>
  (Math.floor(i / DEMO_GRID.tilesX) + (i % DEMO_GRID.tilesX)) % 2 === 0;

/** Right and bottom neighbours, each shared edge once: [a, b] with a left of / above b. */
function neighbourPairs(): Array<[number, number]> {
  const pairs: Array<[number, number]> = [];
  for (let ty = 0; ty < DEMO_GRID.tilesY; ty++) {
    for (let tx = 0; tx < DEMO_GRID.tilesX; tx++) {
      const i = ty * DEMO_GRID.tilesX + tx;
      if (tx + 1 < DEMO_GRID.tilesX) pairs.push([i, i + 1]);
      if (ty + 1 < DEMO_GRID.tilesY) pairs.push([i, i + DEMO_GRID.tilesX]);
    }
  }
  return pairs;
}

/** A same-size region elsewhere in the frame (half a frame away, wrapped). */
function elsewhere(r: PixelRegion, spec: SceneSpec): PixelRegion {
  return {
    x: (r.x + spec.width / 2) % (spec.width - r.width + 1),
    y: (r.y + spec.height / 2) % (spec.height - r.height + 1),
    width: r.width,
    height: r.height,
  };
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);

export async function measureDetection(
  workDir: string,
  checksPerTile: number,
  log: (line: string) => void,
): Promise<DetectionResult> {
  const policy = policyFor('standard');
  const rng = seededRng(20261125);
  const grid = gridTiles(
    DEMO_SCENE.width,
    DEMO_SCENE.height,
    DEMO_GRID.tilesX,
    DEMO_GRID.tilesY,
    DEMO_GRID.overlap,
  );
  const suspects = grid.map((_, i) => i).filter(isSuspect);
  const pairs = neighbourPairs();

  log(`demo-like scene ${DEMO_SCENE.width}x${DEMO_SCENE.height}, ${DEMO_SCENE.samples} samples`);
  const r = await SceneRenderer.open(workDir, 'demo', DEMO_SCENE);
  const full = new Map<number, Rendered>();
  const tiles = new Map<string, Rendered>();
  const few = new Map<string, Rendered>();
  const seed = new Map<string, Rendered>();
  const crops = new Map<string, Array<{ regions: PixelRegion[]; renders: Rendered[] }>>();
  const key = (f: number, i: number) => `${f}:${i}`;
  const timing = { tileMs: [] as number[], tilePx: [] as number[], cropMs: [] as number[] };
  let cropPixels = 0;
  try {
    for (const frame of DETECTION_FRAMES) {
      full.set(frame, await r.render({ frame, region: r.full, threads: HONEST_THREADS }));
      log(`frame ${frame}: full frame in ${Math.round(full.get(frame)!.renderMs)} ms`);
      for (const [i, t] of grid.entries()) {
        const threads = isSuspect(i) ? SUSPECT_THREADS : HONEST_THREADS;
        const done = await r.render({ frame, region: t.region, threads });
        tiles.set(key(frame, i), done);
        if (threads === HONEST_THREADS) {
          timing.tileMs.push(done.wallMs);
          timing.tilePx.push(regionArea(t.region));
        }
      }
      for (const i of suspects) {
        const region = grid[i].region;
        const base = { frame, region, threads: SUSPECT_THREADS };
        few.set(key(frame, i), await r.render({ ...base, samples: FEW_SAMPLES }));
        seed.set(key(frame, i), await r.render({ ...base, seed: OTHER_SEED }));
      }
      log(
        `frame ${frame}: ${grid.length} tiles, ${suspects.length} at 1/8 samples, ${suspects.length} seed ${OTHER_SEED}`,
      );
      for (const i of suspects) {
        const checks: Array<{ regions: PixelRegion[]; renders: Rendered[] }> = [];
        for (let c = 0; c < checksPerTile; c++) {
          const plan = planCropCheck(grid[i].region, grid[i].margins, rng, policy);
          const renders: Rendered[] = [];
          for (const crop of plan.crops) {
            const done = await r.render({ frame, region: crop, threads: HONEST_THREADS });
            renders.push(done);
            timing.cropMs.push(done.wallMs);
            cropPixels += regionArea(crop);
          }
          checks.push({ regions: plan.crops, renders });
        }
        crops.set(key(frame, i), checks);
      }
      log(`frame ${frame}: ${suspects.length * checksPerTile} secret-crop checks re-rendered`);
    }
  } finally {
    await r.close();
  }

  // Honest comparisons (benchmark 2): the same checks on the honest tiles.
  const strips = new HonestTally(
    'demo 4x4, 8 px: overlap strips',
    'every strip between neighbours, 1 vs 2 threads',
  );
  const cropTally = new HonestTally(
    'demo 4x4, 8 px: secret crops',
    'planCropCheck crops re-rendered (2 threads) vs the tile (1 thread)',
  );
  const ringers = new HonestTally(
    'demo 4x4, 8 px: tiles vs full frame',
    'every tile vs the same pixels of a full-frame render (a ringer answer)',
  );
  for (const frame of DETECTION_FRAMES) {
    for (const [a, b] of pairs) {
      const overlap = intersectRegions(grid[a].region, grid[b].region)!;
      strips.add(
        frameRegionOfTile(tiles.get(key(frame, a))!.img, grid[a].region, overlap),
        frameRegionOfTile(tiles.get(key(frame, b))!.img, grid[b].region, overlap),
        `frame ${frame} tiles ${a}/${b}`,
      );
    }
    for (const [i, t] of grid.entries()) {
      ringers.add(
        cutFrame(full.get(frame)!.img, t.region),
        tiles.get(key(frame, i))!.img,
        `f${frame} t${i}`,
      );
    }
    for (const i of suspects) {
      const tile = tiles.get(key(frame, i))!.img;
      for (const check of crops.get(key(frame, i))!) {
        check.regions.forEach((crop, k) =>
          cropTally.add(
            frameRegionOfTile(tile, grid[i].region, crop),
            check.renders[k].img,
            `f${frame} t${i} crop`,
          ),
        );
      }
    }
  }

  // Cheats.
  const classes: ClassResult[] = [];
  for (const cls of CHEAT_CLASSES) {
    const res: ClassResult = {
      cls,
      instances: 0,
      wrongInstances: 0,
      strips: new SplitTally(),
      overlapTiles: new SplitTally(),
      crops: new SplitTally(),
      ringer: new SplitTally(),
    };
    for (const frame of DETECTION_FRAMES) {
      // e2e's rule for the wrong frame and for replays: the previous frame (frame 1: frame 2)
      const other = frame === 1 ? 2 : frame - 1;
      for (const i of suspects) {
        const tile = grid[i];
        const src: CheatSources = {
          tile,
          frame,
          honest: tiles.get(key(frame, i))!.img,
          fewSamples: few.get(key(frame, i))!.img,
          otherFrame: tiles.get(key(other, i))!.img,
          earlierFullFrame: cutFrame(full.get(other)!.img, tile.region),
          otherSeed: seed.get(key(frame, i))!.img,
          otherRegion: cutFrame(full.get(frame)!.img, elsewhere(tile.region, DEMO_SCENE)),
        };
        const faked = await cls.make(src, rng);
        const wrong = !faked.img.data.equals(src.honest.data);
        res.instances++;
        if (wrong) res.wrongInstances++;
        overlapChecks(res, faked, i, frame, wrong);
        const answer = cutFrame(full.get(frame)!.img, tile.region);
        res.ringer.add(compareBoth(answer, faked.img), true, wrong);
        for (const check of crops.get(key(frame, i))!) {
          const f: FakedTile = cls.perTrial ? await cls.make(src, rng) : faked;
          const trialWrong = cls.perTrial ? !f.img.data.equals(src.honest.data) : wrong;
          cropCheck(res.crops, f, tile.region, check.regions, check.renders, trialWrong);
        }
      }
    }
    classes.push(res);
    log(
      `${cls.id}: ${res.wrongInstances}/${res.instances} tiles changed; on those, perceptual: overlap ${res.overlapTiles.wrong.perceptualFlags}/${res.overlapTiles.wrong.n}, crops ${res.crops.wrong.perceptualFlags}/${res.crops.wrong.n}, ringer ${res.ringer.wrong.perceptualFlags}/${res.ringer.wrong.n}`,
    );
  }

  function overlapChecks(
    res: ClassResult,
    faked: FakedTile,
    i: number,
    frame: number,
    wrong: boolean,
  ): void {
    const results: PairResult[] = [];
    let hit = false;
    for (const [a, b] of pairs) {
      if (a !== i && b !== i) continue;
      const j = a === i ? b : a;
      const overlap = intersectRegions(grid[a].region, grid[b].region)!;
      const mine = frameRegionOfTile(faked.img, grid[i].region, overlap);
      const theirs = frameRegionOfTile(tiles.get(key(frame, j))!.img, grid[j].region, overlap);
      // the coordinator compares the left/top tile (a) with the right/bottom one (b)
      const r = a === i ? compareBoth(mine, theirs) : compareBoth(theirs, mine);
      const stripHit = regionsIntersect(overlap, faked.fake);
      hit ||= stripHit;
      res.strips.add(r, stripHit, wrong);
      results.push(r);
    }
    const representative =
      results.find((r) => r.perceptual.verdict === 'mismatch') ??
      results.find((r) => r.exact.verdict === 'mismatch') ??
      results[0];
    res.overlapTiles.add(representative, hit, wrong);
  }

  const allMs = timing.cropMs;
  return {
    grid,
    suspectTilesPerFrame: suspects.length,
    instances: suspects.length * DETECTION_FRAMES.length,
    checksPerTile,
    crops: allMs.length,
    cropPixels,
    classes,
    honest: [strips, cropTally, ringers],
    fullFrames: DETECTION_FRAMES.map((f) => full.get(f)!),
    timing: {
      tileMs: mean(timing.tileMs),
      tilePixels: mean(timing.tilePx),
      cropMs: mean(allMs),
      cropPixels: cropPixels / Math.max(1, allMs.length),
    },
    renders: r.renders,
    renderSeconds: r.wallMs / 1000,
  };
}

/** One secret check: the tile's pixels of each crop against the checker's re-render. */
function cropCheck(
  tally: SplitTally,
  faked: FakedTile,
  tileRegion: PixelRegion,
  regions: PixelRegion[],
  renders: Rendered[],
  wrong: boolean,
): void {
  const results = regions.map((crop, k) =>
    compareBoth(frameRegionOfTile(faked.img, tileRegion, crop), renders[k].img),
  );
  const hit = regions.some((crop) => regionsIntersect(crop, faked.fake));
  const representative =
    results.find((r) => r.perceptual.verdict === 'mismatch') ??
    results.find((r) => r.exact.verdict === 'mismatch') ??
    results[0];
  tally.add(representative, hit, wrong);
}
