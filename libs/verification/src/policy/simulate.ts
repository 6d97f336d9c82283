// Brute-force Monte Carlo of one job, built from the same decisions the coordinator makes
// (shouldIssueRinger, shouldCheckTile, planCropCheck) and real rectangles, for checking the
// closed forms in detection.ts and for benchmarks. Nothing here feeds production decisions.
import type { PixelRegion } from '@tessera/protocol';
import { Cheat } from './detection';
import { interiorRegion, regionsIntersect, TileGeometry } from './geometry';
import { bernoulli, randomInt, Rng } from './rng';
import { planCropCheck, shouldCheckTile, shouldIssueRinger, VerificationPolicy } from './sampling';

export interface JobSimulation {
  policy: VerificationPolicy;
  /** reputation score, fixed for the job (the coordinator snapshots it at the node's first lease) */
  reputation: number;
  tiles: number;
  fakedTiles: number;
  cheat: Cheat;
  /** probability that a faked tile has a neighbour by another node (whole-tile fakes only) */
  overlapCoverage?: number;
  /** tile layouts the node's work tiles cycle through, e.g. one frame's `gridTiles` */
  geometry: readonly TileGeometry[];
  trials: number;
  rng: Rng;
}

/** Where a cheat's faked pixels are in a tile; partial patches at a uniformly random position. */
export function fakedRegion(tile: TileGeometry, cheat: Cheat, rng: Rng): PixelRegion {
  if (cheat.kind === 'whole-tile') return tile.region;
  const interior = interiorRegion(tile.region, tile.margins);
  if (cheat.kind === 'margin-aware') return interior;
  const [bw, bh] =
    typeof cheat.fake === 'number'
      ? [Math.sqrt(cheat.fake), Math.sqrt(cheat.fake)]
      : [cheat.fake.width, cheat.fake.height];
  const width = Math.min(interior.width, Math.max(1, Math.round(bw * interior.width)));
  const height = Math.min(interior.height, Math.max(1, Math.round(bh * interior.height)));
  return {
    x: randomInt(rng, interior.x, interior.x + interior.width - width),
    y: randomInt(rng, interior.y, interior.y + interior.height - height),
    width,
    height,
  };
}

/** K distinct indices out of 0..n-1, uniformly (partial Fisher-Yates). */
function choose(n: number, k: number, rng: Rng): Set<number> {
  const items = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = randomInt(rng, i, n - 1);
    [items[i], items[j]] = [items[j], items[i]];
  }
  return new Set(items.slice(0, k));
}

/** One simulated job: was any faked tile or faked ringer caught? */
export function simulateJob(s: Omit<JobSimulation, 'trials'>): boolean {
  const faked = choose(s.tiles, s.fakedTiles, s.rng);
  const q = s.fakedTiles / s.tiles;
  let caught = false;
  for (let i = 0; i < s.tiles; i++) {
    // A ringer rides along with this work lease; the node fakes it as it fakes work.
    if (shouldIssueRinger(s.reputation, s.rng, s.policy) && bernoulli(s.rng, q)) caught = true;
    if (!faked.has(i)) continue;
    const tile = s.geometry[i % s.geometry.length];
    if (s.cheat.kind === 'whole-tile' && bernoulli(s.rng, s.overlapCoverage ?? 0)) caught = true;
    if (shouldCheckTile(s.reputation, s.rng, s.policy)) {
      const fake = fakedRegion(tile, s.cheat, s.rng);
      const plan = planCropCheck(tile.region, tile.margins, s.rng, s.policy);
      if (plan.crops.some((crop) => regionsIntersect(crop, fake))) caught = true;
    }
  }
  return caught;
}

/** The fraction of `trials` simulated jobs in which the cheat was caught. */
export function simulateJobDetection(s: JobSimulation): number {
  if (!Number.isInteger(s.trials) || s.trials < 1) throw new RangeError('trials must be >= 1');
  let caught = 0;
  for (let t = 0; t < s.trials; t++) if (simulateJob(s)) caught++;
  return caught / s.trials;
}
