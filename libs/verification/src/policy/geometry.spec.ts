import {
  coreRegion,
  gridTiles,
  interiorRegion,
  isWithin,
  overlapCoverage,
  regionArea,
  regionRelativeTo,
  regionsIntersect,
} from './geometry';

describe('gridTiles', () => {
  it("lays out the planner's 4x4 grid of a 640x360 frame with 8 px margins on interior edges", () => {
    const tiles = gridTiles(640, 360, 4, 4, 8);
    expect(tiles).toHaveLength(16);
    expect(tiles[0]).toEqual({
      region: { x: 0, y: 0, width: 168, height: 98 },
      margins: { left: 0, top: 0, right: 8, bottom: 8 },
    });
    expect(tiles[5]).toEqual({
      region: { x: 152, y: 82, width: 176, height: 106 },
      margins: { left: 8, top: 8, right: 8, bottom: 8 },
    });
  });

  it('has cores that tile the frame exactly', () => {
    for (const [w, h, tx, ty] of [
      [640, 360, 4, 4],
      [1921, 1079, 7, 5],
      [100, 50, 1, 1],
    ]) {
      const cores = gridTiles(w, h, tx, ty, 4).map((t) => coreRegion(t.region, t.margins));
      expect(cores.reduce((s, c) => s + regionArea(c), 0)).toBe(w * h);
      for (let i = 0; i < cores.length; i++) {
        expect(isWithin(cores[i], { x: 0, y: 0, width: w, height: h })).toBe(true);
        for (let j = i + 1; j < cores.length; j++) {
          expect(regionsIntersect(cores[i], cores[j])).toBe(false);
        }
      }
    }
  });
});

describe('coreRegion and interiorRegion', () => {
  const middle = gridTiles(640, 360, 4, 4, 8)[5];
  const corner = gridTiles(640, 360, 4, 4, 8)[0];

  it('core drops the margins; interior also drops the bands the neighbours render', () => {
    expect(coreRegion(middle.region, middle.margins)).toEqual({
      x: 160,
      y: 90,
      width: 160,
      height: 90,
    });
    expect(interiorRegion(middle.region, middle.margins)).toEqual({
      x: 168,
      y: 98,
      width: 144,
      height: 74,
    });
    // frame edges carry no margin and are not cross-checked: the interior reaches them
    expect(interiorRegion(corner.region, corner.margins)).toEqual({
      x: 0,
      y: 0,
      width: 152,
      height: 82,
    });
  });

  it('keeps the band of an edge whose neighbour is by the same node', () => {
    expect(interiorRegion(middle.region, middle.margins, { right: false, top: false })).toEqual({
      x: 168,
      y: 90,
      width: 152,
      height: 82,
    });
  });

  it('falls back to the core on an axis the bands would consume', () => {
    const region = { x: 0, y: 0, width: 30, height: 40 };
    const margins = { left: 8, top: 0, right: 8, bottom: 0 };
    expect(coreRegion(region, margins)).toEqual({ x: 8, y: 0, width: 14, height: 40 });
    expect(interiorRegion(region, margins)).toEqual({ x: 8, y: 0, width: 14, height: 40 });
  });

  it('refuses margins that leave no core and non-integer geometry', () => {
    expect(() =>
      coreRegion({ x: 0, y: 0, width: 16, height: 10 }, { left: 8, top: 0, right: 8, bottom: 0 }),
    ).toThrow(RangeError);
    expect(() =>
      coreRegion({ x: 0.5, y: 0, width: 16, height: 10 }, { left: 0, top: 0, right: 0, bottom: 0 }),
    ).toThrow(RangeError);
    expect(() =>
      coreRegion({ x: 0, y: 0, width: 16, height: 10 }, { left: -1, top: 0, right: 0, bottom: 0 }),
    ).toThrow(RangeError);
  });
});

describe('region helpers', () => {
  it('intersects, contains and translates', () => {
    const a = { x: 0, y: 0, width: 10, height: 10 };
    expect(regionsIntersect(a, { x: 9, y: 9, width: 5, height: 5 })).toBe(true);
    expect(regionsIntersect(a, { x: 10, y: 0, width: 5, height: 5 })).toBe(false);
    expect(isWithin({ x: 2, y: 2, width: 8, height: 8 }, a)).toBe(true);
    expect(isWithin({ x: 2, y: 2, width: 9, height: 8 }, a)).toBe(false);
    expect(isWithin({ x: 2, y: 2, width: 0, height: 8 }, a)).toBe(false);
    expect(
      regionRelativeTo(
        { x: 170, y: 100, width: 20, height: 10 },
        { x: 152, y: 82, width: 176, height: 106 },
      ),
    ).toEqual({
      x: 18,
      y: 18,
      width: 20,
      height: 10,
    });
  });
});

describe('overlapCoverage', () => {
  const grid = (tilesX: number, tilesY: number, owner: (x: number, y: number) => string) => ({
    tilesX,
    tilesY,
    owners: Array.from({ length: tilesX * tilesY }, (_, i) =>
      owner(i % tilesX, Math.floor(i / tilesX)),
    ),
  });

  it('is 1 for a checkerboard of two nodes and 0 for a node that rendered everything', () => {
    const checker = grid(4, 4, (x, y) => ((x + y) % 2 ? 'a' : 'b'));
    expect(overlapCoverage(checker, 'a')).toBe(1);
    expect(overlapCoverage(checker, 'b')).toBe(1);
    expect(
      overlapCoverage(
        grid(4, 4, () => 'a'),
        'a',
      ),
    ).toBe(0);
    expect(
      overlapCoverage(
        grid(1, 1, () => 'a'),
        'a',
      ),
    ).toBe(0);
  });

  it('counts only tiles with a neighbour by another node', () => {
    // node a owns the left half of a 4x1 strip: only its tile next to b is covered
    const strip = grid(4, 1, (x) => (x < 2 ? 'a' : 'b'));
    expect(overlapCoverage(strip, 'a')).toBe(0.5);
    // columns 0..2 are a's, column 3 b's: of a's 12 tiles the 4 in column 2 are covered
    expect(
      overlapCoverage(
        grid(4, 4, (x) => (x < 3 ? 'a' : 'b')),
        'a',
      ),
    ).toBeCloseTo(1 / 3, 12);
    expect(overlapCoverage(strip, 'nobody')).toBe(0);
  });

  it('refuses an assignment of the wrong length', () => {
    expect(() => overlapCoverage({ tilesX: 2, tilesY: 2, owners: ['a'] }, 'a')).toThrow(RangeError);
  });
});
