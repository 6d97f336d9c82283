import type { Margins, PixelRegion } from '@tessera/protocol';

// The job compiler: a pure function from scene facts and settings to shards (frame x tile),
// each tile padded by the overlap margin on its interior edges only.

export interface TileSettings {
  /** grid: number of tiles across and down */
  tilesX?: number;
  tilesY?: number;
  /** or a target tile size in pixels (the grid is derived from it) */
  tileWidth?: number;
  tileHeight?: number;
  overlap: number;
}

export interface FrameSettings {
  frameStart?: number;
  frameEnd?: number;
  frameStep?: number;
}

export interface SceneFacts {
  width: number;
  height: number;
  frameStart: number;
  frameEnd: number;
  frameStep: number;
}

export interface PlannedTile {
  tileX: number;
  tileY: number;
  region: PixelRegion;
  margins: Margins;
}

export interface Plan {
  frames: number[];
  tilesX: number;
  tilesY: number;
  tiles: PlannedTile[];
}

export const MAX_SHARDS_PER_JOB = 200_000;

export class PlanError extends Error {}

export function planFrames(scene: SceneFacts, s: FrameSettings): number[] {
  const start = s.frameStart ?? scene.frameStart;
  const end = s.frameEnd ?? scene.frameEnd;
  const step = s.frameStep ?? scene.frameStep ?? 1;
  if (!Number.isInteger(start) || !Number.isInteger(end))
    throw new PlanError('frames must be integers');
  if (end < start) throw new PlanError(`frame end ${end} is before frame start ${start}`);
  if (!Number.isInteger(step) || step < 1) throw new PlanError('frame step must be at least 1');
  const frames: number[] = [];
  for (let f = start; f <= end; f += step) frames.push(f);
  return frames;
}

/** Splits `length` pixels into `count` cores as evenly as integers allow. */
function cuts(length: number, count: number): number[] {
  return Array.from({ length: count + 1 }, (_, i) => Math.floor((i * length) / count));
}

export function planTiles(width: number, height: number, s: TileSettings): Omit<Plan, 'frames'> {
  const tilesX = s.tilesX ?? (s.tileWidth ? Math.ceil(width / s.tileWidth) : 1);
  const tilesY = s.tilesY ?? (s.tileHeight ? Math.ceil(height / s.tileHeight) : 1);
  if (!Number.isInteger(tilesX) || !Number.isInteger(tilesY) || tilesX < 1 || tilesY < 1) {
    throw new PlanError('the tile grid needs at least 1 x 1 tiles');
  }
  if (tilesX > width || tilesY > height) {
    throw new PlanError(`a ${tilesX}x${tilesY} grid does not fit a ${width}x${height} image`);
  }
  const xs = cuts(width, tilesX);
  const ys = cuts(height, tilesY);
  const minCoreW = Math.min(...xs.slice(1).map((x, i) => x - xs[i]));
  const minCoreH = Math.min(...ys.slice(1).map((y, i) => y - ys[i]));
  if (!Number.isInteger(s.overlap) || s.overlap < 0) {
    throw new PlanError('overlap must be a whole number of pixels, 0 or more');
  }
  // A margin wider than the neighbouring tile's core would reach past that tile.
  if ((tilesX > 1 && s.overlap >= minCoreW) || (tilesY > 1 && s.overlap >= minCoreH)) {
    throw new PlanError(
      `overlap ${s.overlap}px must be smaller than the smallest tile (${minCoreW}x${minCoreH}px)`,
    );
  }
  const tiles: PlannedTile[] = [];
  for (let ty = 0; ty < tilesY; ty++) {
    for (let tx = 0; tx < tilesX; tx++) {
      const margins: Margins = {
        left: tx > 0 ? s.overlap : 0,
        top: ty > 0 ? s.overlap : 0,
        right: tx < tilesX - 1 ? s.overlap : 0,
        bottom: ty < tilesY - 1 ? s.overlap : 0,
      };
      const x = xs[tx] - margins.left;
      const y = ys[ty] - margins.top;
      tiles.push({
        tileX: tx,
        tileY: ty,
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
  return { tilesX, tilesY, tiles };
}

export function planJob(scene: SceneFacts, settings: FrameSettings & TileSettings): Plan {
  const frames = planFrames(scene, settings);
  const grid = planTiles(scene.width, scene.height, settings);
  const total = frames.length * grid.tiles.length;
  if (total > MAX_SHARDS_PER_JOB) {
    throw new PlanError(`${total} shards is more than the ${MAX_SHARDS_PER_JOB} a job may have`);
  }
  return { frames, ...grid };
}
