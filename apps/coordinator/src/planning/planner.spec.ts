import { PlanError, planFrames, planJob, planTiles } from './planner';

const scene = { width: 640, height: 360, frameStart: 1, frameEnd: 3, frameStep: 1 };

describe('planFrames', () => {
  it('defaults to the scene range', () => {
    expect(planFrames(scene, {})).toEqual([1, 2, 3]);
  });

  it('honours start, end and step', () => {
    expect(planFrames(scene, { frameStart: 10, frameEnd: 20, frameStep: 5 })).toEqual([10, 15, 20]);
  });

  it('rejects end before start and bad steps', () => {
    expect(() => planFrames(scene, { frameStart: 5, frameEnd: 4 })).toThrow(PlanError);
    expect(() => planFrames(scene, { frameStep: 0 })).toThrow(/step/);
  });
});

describe('planTiles', () => {
  it('covers the image exactly with cores, margins only on interior edges', () => {
    const { tiles } = planTiles(101, 57, { tilesX: 3, tilesY: 2, overlap: 4 });
    expect(tiles).toHaveLength(6);
    const covered = new Uint8Array(101 * 57);
    for (const t of tiles) {
      const { region: r, margins: m } = t;
      expect(r.x).toBeGreaterThanOrEqual(0);
      expect(r.y).toBeGreaterThanOrEqual(0);
      expect(r.x + r.width).toBeLessThanOrEqual(101);
      expect(r.y + r.height).toBeLessThanOrEqual(57);
      expect(m.left > 0).toBe(t.tileX > 0);
      expect(m.right > 0).toBe(t.tileX < 2);
      expect(m.top > 0).toBe(t.tileY > 0);
      expect(m.bottom > 0).toBe(t.tileY < 1);
      for (let y = r.y + m.top; y < r.y + r.height - m.bottom; y++) {
        for (let x = r.x + m.left; x < r.x + r.width - m.right; x++) covered[y * 101 + x]++;
      }
    }
    expect(covered.every((c) => c === 1)).toBe(true);
  });

  it('derives the grid from a tile size', () => {
    const plan = planTiles(640, 360, { tileWidth: 256, tileHeight: 256, overlap: 8 });
    expect([plan.tilesX, plan.tilesY]).toEqual([3, 2]);
  });

  it('has no margins for a single tile', () => {
    const { tiles } = planTiles(640, 360, { tilesX: 1, tilesY: 1, overlap: 16 });
    expect(tiles[0].region).toEqual({ x: 0, y: 0, width: 640, height: 360 });
  });

  it('rejects zero tiles, grids larger than the image and margins as wide as a tile', () => {
    expect(() => planTiles(640, 360, { tilesX: 0, tilesY: 1, overlap: 0 })).toThrow(/1 x 1/);
    expect(() => planTiles(4, 4, { tilesX: 5, tilesY: 1, overlap: 0 })).toThrow(/does not fit/);
    expect(() => planTiles(640, 360, { tilesX: 2, tilesY: 2, overlap: 180 })).toThrow(/overlap/);
    expect(() => planTiles(640, 360, { tilesX: 2, tilesY: 2, overlap: -1 })).toThrow(/overlap/);
  });
});

describe('planJob', () => {
  it('multiplies frames by tiles', () => {
    const plan = planJob(scene, { tilesX: 4, tilesY: 4, overlap: 8 });
    expect(plan.frames.length * plan.tiles.length).toBe(48);
  });

  it('refuses absurd shard counts', () => {
    expect(() =>
      planJob({ ...scene, frameEnd: 100_000 }, { tilesX: 16, tilesY: 16, overlap: 0 }),
    ).toThrow(/more than/);
  });
});
