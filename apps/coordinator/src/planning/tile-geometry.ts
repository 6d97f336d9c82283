import type { Margins, PixelRegion } from '@tessera/protocol';

/** The columns of a shard row that place its tile in the frame. */
export interface ShardGeometryRow {
  x: number;
  y: number;
  width: number;
  height: number;
  marginLeft: number;
  marginTop: number;
  marginRight: number;
  marginBottom: number;
}

/** Prisma `select` for those columns. */
export const SHARD_GEOMETRY_SELECT = {
  x: true,
  y: true,
  width: true,
  height: true,
  marginLeft: true,
  marginTop: true,
  marginRight: true,
  marginBottom: true,
} as const;

/** The rendered region (margins included) of a shard row. */
export function regionOf(s: Pick<ShardGeometryRow, 'x' | 'y' | 'width' | 'height'>): PixelRegion {
  return { x: s.x, y: s.y, width: s.width, height: s.height };
}

/** The overlap margins of a shard row, cropped away at assembly. */
export function marginsOf(s: ShardGeometryRow): Margins {
  return { left: s.marginLeft, top: s.marginTop, right: s.marginRight, bottom: s.marginBottom };
}

/** Region and margins: the tile geometry planning produced, read back from the database. */
export function tileGeometryOf(s: ShardGeometryRow): { region: PixelRegion; margins: Margins } {
  return { region: regionOf(s), margins: marginsOf(s) };
}
