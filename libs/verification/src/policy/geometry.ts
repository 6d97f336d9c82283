// Tile geometry for verification: the planner pads each tile's core by the overlap margin on its
// interior edges, so every interior edge carries a strip 2 x margin wide that both neighbours
// render. Inside a tile's core, the band `margin` px wide along an interior edge is the
// neighbour's margin: it is cross-checked for free. What no overlap can check is the rest, the
// tile's *interior*; secret crops are placed there.
import type { Margins, PixelRegion } from '@tessera/protocol';

/** A tile as the planner makes it: the leased region (margins included) and its margins. */
export interface TileGeometry {
  region: PixelRegion;
  margins: Margins;
}

export type Edge = keyof Margins;
export const EDGES: readonly Edge[] = ['left', 'top', 'right', 'bottom'];

/** Whether the strip along each edge is cross-checked by a different node (default: yes). */
export type CrossCheckedEdges = Partial<Record<Edge, boolean>>;

export function regionArea(r: PixelRegion): number {
  return r.width * r.height;
}

function assertTile(region: PixelRegion, margins: Margins): void {
  const numbers = [
    region.x,
    region.y,
    region.width,
    region.height,
    ...EDGES.map((e) => margins[e]),
  ];
  if (!numbers.every((n) => Number.isInteger(n) && n >= 0)) {
    throw new RangeError('tile region and margins must be non-negative integers');
  }
  if (
    margins.left + margins.right >= region.width ||
    margins.top + margins.bottom >= region.height
  ) {
    throw new RangeError('the margins leave no core in the tile region');
  }
}

/** The tile's own pixels: the region minus its margins. */
export function coreRegion(region: PixelRegion, margins: Margins): PixelRegion {
  assertTile(region, margins);
  return {
    x: region.x + margins.left,
    y: region.y + margins.top,
    width: region.width - margins.left - margins.right,
    height: region.height - margins.top - margins.bottom,
  };
}

/**
 * The part of the core that no overlap strip covers: the core shrunk by the margin on every
 * interior edge (an edge with a margin) that is cross-checked. An edge whose neighbour was rendered
 * by the same node is not cross-checked: pass `{ right: false }` and the interior reaches that core
 * edge. When the margins are so wide that nothing would remain on an axis, that axis keeps the core.
 */
export function interiorRegion(
  region: PixelRegion,
  margins: Margins,
  crossChecked: CrossCheckedEdges = {},
): PixelRegion {
  const core = coreRegion(region, margins);
  const band = (edge: Edge) => (crossChecked[edge] === false ? 0 : margins[edge]);
  const [left, right, top, bottom] = [band('left'), band('right'), band('top'), band('bottom')];
  const x =
    core.width - left - right >= 1
      ? { x: core.x + left, width: core.width - left - right }
      : { x: core.x, width: core.width };
  const y =
    core.height - top - bottom >= 1
      ? { y: core.y + top, height: core.height - top - bottom }
      : { y: core.y, height: core.height };
  return { x: x.x, y: y.y, width: x.width, height: y.height };
}

/** Whether `inner` is non-empty and lies entirely inside `outer`. */
export function isWithin(inner: PixelRegion, outer: PixelRegion): boolean {
  return (
    inner.width > 0 &&
    inner.height > 0 &&
    inner.x >= outer.x &&
    inner.y >= outer.y &&
    inner.x + inner.width <= outer.x + outer.width &&
    inner.y + inner.height <= outer.y + outer.height
  );
}

/** Whether two regions share at least one pixel. */
export function regionsIntersect(a: PixelRegion, b: PixelRegion): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** `inner` in the coordinates of `outer`'s top-left pixel, e.g. a crop inside the tile's PNG. */
export function regionRelativeTo(inner: PixelRegion, outer: PixelRegion): PixelRegion {
  return { x: inner.x - outer.x, y: inner.y - outer.y, width: inner.width, height: inner.height };
}

/**
 * The planner's layout: `tilesX` x `tilesY` cores split as evenly as integers allow, each padded by
 * `overlap` px on its interior edges. For simulations, benchmarks and cost tables.
 */
export function gridTiles(
  width: number,
  height: number,
  tilesX: number,
  tilesY: number,
  overlap: number,
): TileGeometry[] {
  const cuts = (length: number, count: number) =>
    Array.from({ length: count + 1 }, (_, i) => Math.floor((i * length) / count));
  const xs = cuts(width, tilesX);
  const ys = cuts(height, tilesY);
  const tiles: TileGeometry[] = [];
  for (let ty = 0; ty < tilesY; ty++) {
    for (let tx = 0; tx < tilesX; tx++) {
      const margins: Margins = {
        left: tx > 0 ? overlap : 0,
        top: ty > 0 ? overlap : 0,
        right: tx < tilesX - 1 ? overlap : 0,
        bottom: ty < tilesY - 1 ? overlap : 0,
      };
      const x = xs[tx] - margins.left;
      const y = ys[ty] - margins.top;
      tiles.push({
        margins,
        region: {
          x,
          y,
          width: xs[tx + 1] + margins.right - x,
          height: ys[ty + 1] + margins.bottom - y,
        },
      });
    }
  }
  return tiles;
}

/** Who rendered each tile of one frame: `owners[ty * tilesX + tx]`. */
export interface TileAssignment {
  tilesX: number;
  tilesY: number;
  owners: readonly string[];
}

/**
 * The overlap coverage of `node` in one frame: the fraction of its tiles with at least one
 * neighbour (sharing an edge) rendered by a different node. A whole-tile fake in such a tile
 * disagrees with that neighbour's overlap strip. Returns 0 when the node has no tile.
 */
export function overlapCoverage(assignment: TileAssignment, node: string): number {
  const { tilesX, tilesY, owners } = assignment;
  if (owners.length !== tilesX * tilesY) {
    throw new RangeError(`expected ${tilesX * tilesY} owners, got ${owners.length}`);
  }
  let mine = 0;
  let covered = 0;
  for (let ty = 0; ty < tilesY; ty++) {
    for (let tx = 0; tx < tilesX; tx++) {
      if (owners[ty * tilesX + tx] !== node) continue;
      mine++;
      const neighbours = [
        [tx - 1, ty],
        [tx + 1, ty],
        [tx, ty - 1],
        [tx, ty + 1],
      ].filter(([x, y]) => x >= 0 && y >= 0 && x < tilesX && y < tilesY);
      if (neighbours.some(([x, y]) => owners[y * tilesX + x] !== node)) covered++;
    }
  }
  return mine === 0 ? 0 : covered / mine;
}
