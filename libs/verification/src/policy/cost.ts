// What verification costs, in rendered pixels per useful pixel (a tile's core). Per tile of a
// node with check rate c and ringer rate rho:
//   crops        c * cropsPerCheck * crop area            (re-rendered by another node)
//   ringers      rho * region area                        (a whole tile rendered again)
//   arbitration  mu * (c * cropsPerCheck * crop area + own share of the overlap strips)
//                (mu: the fraction of comparisons that disagree and go to a third node)
// Overlap margins are part of every tile's region whatever the policy: reported separately.
import { cropSize } from './crop';
import { regionArea, coreRegion, EDGES, interiorRegion, TileGeometry } from './geometry';
import { checkRate, DEFAULT_POLICY, ringerRate, VerificationPolicy } from './sampling';

/** Assumed fraction of checks that disagree and need a third node (cross-device noise, faults). */
export const DEFAULT_MISMATCH_RATE = 0.01;

export interface VerificationCost {
  checkRate: number;
  ringerRate: number;
  /** mean core px per tile: what the requester wants */
  usefulPixels: number;
  /** mean margin px per tile (region - core): rendered by both neighbours */
  overlapPixels: number;
  /** expected crop re-render px per tile */
  cropPixels: number;
  /** expected ringer px per tile */
  ringerPixels: number;
  /** expected arbitration re-render px per tile */
  arbitrationPixels: number;
  /** (crop + ringer + arbitration) / useful */
  verificationRatio: number;
  /** overlap / useful */
  overlapRatio: number;
}

/**
 * Expected verification pixels per useful pixel for a node with this reputation score, over the
 * given tiles (e.g. one frame's grid from `gridTiles`), all tiles weighted alike.
 */
export function verificationCost(
  policy: VerificationPolicy = DEFAULT_POLICY,
  reputation: number,
  tiles: TileGeometry | readonly TileGeometry[],
  options: { mismatchRate?: number } = {},
): VerificationCost {
  const list: readonly TileGeometry[] = Array.isArray(tiles) ? tiles : [tiles as TileGeometry];
  if (list.length === 0) throw new RangeError('verificationCost needs at least one tile');
  const mu = options.mismatchRate ?? DEFAULT_MISMATCH_RATE;
  if (!(mu >= 0 && mu <= 1)) throw new RangeError('mismatchRate must be a probability');
  const c = checkRate(reputation, policy);
  const rho = ringerRate(reputation, policy);
  let useful = 0;
  let overlap = 0;
  let crops = 0;
  let ringers = 0;
  let arbitration = 0;
  for (const { region, margins } of list) {
    const core = coreRegion(region, margins);
    const crop = cropSize(interiorRegion(region, margins), policy);
    const cropPx = c * policy.cropsPerCheck * crop.width * crop.height;
    const strips = EDGES.reduce(
      (sum, edge) =>
        sum + margins[edge] * (edge === 'left' || edge === 'right' ? core.height : core.width),
      0,
    );
    useful += regionArea(core);
    overlap += regionArea(region) - regionArea(core);
    crops += cropPx;
    ringers += rho * regionArea(region);
    arbitration += mu * (cropPx + strips);
  }
  const n = list.length;
  return {
    checkRate: c,
    ringerRate: rho,
    usefulPixels: useful / n,
    overlapPixels: overlap / n,
    cropPixels: crops / n,
    ringerPixels: ringers / n,
    arbitrationPixels: arbitration / n,
    verificationRatio: (crops + ringers + arbitration) / useful,
    overlapRatio: overlap / useful,
  };
}
