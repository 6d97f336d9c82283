// Benchmark 3: what verification costs, in rendered pixels per useful (core) pixel, under the
// standard policy: the library's verificationCost (crops + ringers + arbitration at a 1%
// mismatch rate), a simulation of the coordinator's decisions over many tiles (crops, ringers;
// arbitration at the measured false-rejection rate), and the same in render time from the
// crop and tile renders of benchmark 1. Overlap margins are reported apart.
import {
  checkRate,
  coreRegion,
  gridTiles,
  planCropCheck,
  policyFor,
  regionArea,
  ringerRate,
  seededRng,
  shouldCheckTile,
  shouldIssueRinger,
  TileGeometry,
  verificationCost,
  VerificationCost,
} from '@tessera/verification';

export const COST_GRIDS = [
  { name: '640x360, 4x4, 8 px (demo)', width: 640, height: 360, tilesX: 4, tilesY: 4, overlap: 8 },
  { name: '1920x1080, 8x8, 8 px', width: 1920, height: 1080, tilesX: 8, tilesY: 8, overlap: 8 },
  { name: '3840x2160, 8x8, 16 px', width: 3840, height: 2160, tilesX: 8, tilesY: 8, overlap: 16 },
  { name: '1920x1080, one tile', width: 1920, height: 1080, tilesX: 1, tilesY: 1, overlap: 0 },
];

export const SIMULATED_TILES = 50_000;

export interface CostRow {
  grid: string;
  score: number;
  formula: VerificationCost;
  /** simulated (crop + ringer) px per core px */
  simulated: number;
}

/** Crop and ringer pixels the coordinator's decisions produce over `n` tiles, per core pixel. */
function simulate(score: number, tiles: readonly TileGeometry[], n: number, seed: number): number {
  const policy = policyFor('standard');
  const rng = seededRng(seed);
  let extra = 0;
  let useful = 0;
  for (let i = 0; i < n; i++) {
    const t = tiles[i % tiles.length];
    useful += regionArea(coreRegion(t.region, t.margins));
    if (shouldCheckTile(score, rng, policy)) {
      for (const crop of planCropCheck(t.region, t.margins, rng, policy).crops) {
        extra += regionArea(crop);
      }
    }
    // a ringer re-renders a whole verified tile of the job (a random one)
    if (shouldIssueRinger(score, rng, policy)) {
      extra += regionArea(tiles[Math.floor(rng() * tiles.length)].region);
    }
  }
  return extra / useful;
}

export function costRows(scores: number[]): CostRow[] {
  const policy = policyFor('standard');
  const rows: CostRow[] = [];
  for (const g of COST_GRIDS) {
    const tiles = gridTiles(g.width, g.height, g.tilesX, g.tilesY, g.overlap);
    for (const score of scores) {
      rows.push({
        grid: g.name,
        score,
        formula: verificationCost(policy, score, tiles),
        simulated: simulate(score, tiles, SIMULATED_TILES, 11 + rows.length),
      });
    }
  }
  return rows;
}

/**
 * Verification render time per unit of work render time, from measured mean wall times of a
 * tile and of a crop (both 2 threads, through the tile worker, so per-render overheads count).
 */
export function timeCost(
  score: number,
  timing: { tileMs: number; cropMs: number },
): { checkRate: number; ringerRate: number; ratio: number } {
  const policy = policyFor('standard');
  const c = checkRate(score, policy);
  const rho = ringerRate(score, policy);
  return {
    checkRate: c,
    ringerRate: rho,
    ratio: (c * policy.cropsPerCheck * timing.cropMs + rho * timing.tileMs) / timing.tileMs,
  };
}
