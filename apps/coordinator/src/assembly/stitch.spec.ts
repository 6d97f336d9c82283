import type { Margins, PixelRegion } from '@tessera/protocol';
import sharp from 'sharp';
import {
  assertExactTiling,
  makeThumbnail,
  stitchFrame,
  StitchError,
  type StitchTile,
} from './stitch';

const W = 67;
const H = 41;

/** Every pixel distinct enough that a shifted or misplaced row shows up; some alpha is 0. */
function fullImage(): Buffer {
  const data = Buffer.alloc(W * H * 4);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = (y * W + x) * 4;
      data[i] = (x * 7 + y) & 255;
      data[i + 1] = (y * 13 + x * 3) & 255;
      data[i + 2] = (x * y) & 255;
      data[i + 3] = (x + y) % 17 === 0 ? 0 : 255 - ((x * 5 + y * 11) % 200);
    }
  }
  return data;
}

function crop(data: Buffer, width: number, r: PixelRegion): Buffer {
  const out = Buffer.alloc(r.width * r.height * 4);
  for (let row = 0; row < r.height; row++) {
    const src = ((r.y + row) * width + r.x) * 4;
    data.copy(out, row * r.width * 4, src, src + r.width * 4);
  }
  return out;
}

function png(raw: Buffer, width: number, height: number, channels: 3 | 4 = 4): Promise<Buffer> {
  return sharp(raw, { raw: { width, height, channels } }).png().toBuffer();
}

async function decode(image: Buffer) {
  return sharp(image).raw().toBuffer({ resolveWithObject: true });
}

/** Uneven grid with a margin on interior edges only, the way the planner pads tiles. */
function grid(margin: number): { region: PixelRegion; margins: Margins }[] {
  const xs = [0, 20, 45, W];
  const ys = [0, 17, H];
  const out: { region: PixelRegion; margins: Margins }[] = [];
  for (let j = 0; j + 1 < ys.length; j++) {
    for (let i = 0; i + 1 < xs.length; i++) {
      const margins = {
        left: i > 0 ? margin : 0,
        top: j > 0 ? margin : 0,
        right: i + 2 < xs.length ? margin : 0,
        bottom: j + 2 < ys.length ? margin : 0,
      };
      const region = {
        x: xs[i] - margins.left,
        y: ys[j] - margins.top,
        width: xs[i + 1] - xs[i] + margins.left + margins.right,
        height: ys[j + 1] - ys[j] + margins.top + margins.bottom,
      };
      out.push({ region, margins });
    }
  }
  return out;
}

async function tilesFrom(full: Buffer, margin: number): Promise<StitchTile[]> {
  return Promise.all(
    grid(margin).map(async ({ region, margins }) => ({
      png: await png(crop(full, W, region), region.width, region.height),
      region,
      margins,
    })),
  );
}

describe('stitchFrame', () => {
  it('reassembles the original image exactly from tiles cut with margins', async () => {
    const full = fullImage();
    const tiles = await tilesFrom(full, 4);
    // Scribble over the margins: they must be cropped away, never composed.
    for (const t of tiles) {
      const { data, info } = await decode(t.png);
      const { left, top, right, bottom } = t.margins;
      for (let y = 0; y < info.height; y++) {
        for (let x = 0; x < info.width; x++) {
          const inMargin =
            x < left || y < top || x >= info.width - right || y >= info.height - bottom;
          if (inMargin) data.fill(0x5a, (y * info.width + x) * 4, (y * info.width + x + 1) * 4);
        }
      }
      t.png = await png(data, info.width, info.height);
    }

    const out = await stitchFrame({ width: W, height: H }, tiles.reverse());
    const { data, info } = await decode(out);
    expect(info).toMatchObject({ width: W, height: H, channels: 4, format: 'raw' });
    expect((await sharp(out).metadata()).depth).toBe('uchar');
    expect(data.equals(full)).toBe(true);
  });

  it('works without margins and with a single tile', async () => {
    const full = fullImage();
    expect(
      (
        await decode(await stitchFrame({ width: W, height: H }, await tilesFrom(full, 0)))
      ).data.equals(full),
    ).toBe(true);
    const single = [
      {
        png: await png(full, W, H),
        region: { x: 0, y: 0, width: W, height: H },
        margins: { left: 0, top: 0, right: 0, bottom: 0 },
      },
    ];
    expect(
      (await decode(await stitchFrame({ width: W, height: H }, single))).data.equals(full),
    ).toBe(true);
  });

  it('gives RGB tiles an opaque alpha channel', async () => {
    const rgb = Buffer.alloc(4 * 2 * 3, 0x33);
    const out = await stitchFrame({ width: 4, height: 2 }, [
      {
        png: await png(rgb, 4, 2, 3),
        region: { x: 0, y: 0, width: 4, height: 2 },
        margins: { left: 0, top: 0, right: 0, bottom: 0 },
      },
    ]);
    const { data, info } = await decode(out);
    expect(info.channels).toBe(4);
    expect([...data.subarray(0, 4)]).toEqual([0x33, 0x33, 0x33, 255]);
  });

  it('rejects a tile whose image size does not match its region', async () => {
    const full = fullImage();
    const tiles = await tilesFrom(full, 4);
    const r = tiles[2].region;
    tiles[2].png = await png(Buffer.alloc((r.width - 1) * r.height * 4), r.width - 1, r.height);
    await expect(stitchFrame({ width: W, height: H }, tiles)).rejects.toThrow(
      new StitchError(
        `tile 2: image is ${r.width - 1}x${r.height}, region ${r.width}x${r.height}+${r.x}+${r.y} expects ${r.width}x${r.height}`,
      ),
    );
  });

  it('rejects a gap between cores', async () => {
    const tiles = await tilesFrom(fullImage(), 4);
    await expect(stitchFrame({ width: W, height: H }, tiles.slice(1))).rejects.toThrow(
      /gap: 340 pixels uncovered, first at \(0, 0\)/,
    );
  });
});

describe('assertExactTiling', () => {
  const none = { left: 0, top: 0, right: 0, bottom: 0 };
  const size = { width: 10, height: 10 };

  it('accepts cores that cover the frame', () => {
    expect(
      assertExactTiling(size, [
        { region: { x: 0, y: 0, width: 7, height: 10 }, margins: { ...none, right: 2 } },
        { region: { x: 3, y: 0, width: 7, height: 10 }, margins: { ...none, left: 2 } },
      ]),
    ).toEqual([
      { x: 0, y: 0, width: 5, height: 10 },
      { x: 5, y: 0, width: 5, height: 10 },
    ]);
  });

  it('rejects overlapping cores', () => {
    expect(() =>
      assertExactTiling(size, [
        { region: { x: 0, y: 0, width: 6, height: 10 }, margins: none },
        { region: { x: 5, y: 0, width: 5, height: 10 }, margins: none },
      ]),
    ).toThrow(/tiles 0 and 1 overlap/);
  });

  it('rejects a gap and names where it is', () => {
    expect(() =>
      assertExactTiling(size, [
        { region: { x: 0, y: 0, width: 4, height: 10 }, margins: none },
        { region: { x: 5, y: 0, width: 5, height: 10 }, margins: none },
      ]),
    ).toThrow('tiles leave a gap: 10 pixels uncovered, first at (4, 0)');
  });

  it('rejects cores outside the frame, empty cores and fractional numbers', () => {
    expect(() =>
      assertExactTiling(size, [{ region: { x: 5, y: 0, width: 6, height: 10 }, margins: none }]),
    ).toThrow(/outside the 10x10 frame/);
    expect(() =>
      assertExactTiling(size, [
        { region: { x: 0, y: 0, width: 4, height: 10 }, margins: { ...none, left: 2, right: 2 } },
      ]),
    ).toThrow(/no core/);
    expect(() =>
      assertExactTiling(size, [{ region: { x: 0.5, y: 0, width: 10, height: 10 }, margins: none }]),
    ).toThrow(/non-negative integers/);
    expect(() => assertExactTiling({ width: 0, height: 10 }, [])).toThrow(/invalid frame size/);
  });
});

describe('makeThumbnail', () => {
  it('scales down to maxWidth keeping the aspect ratio, and never enlarges', async () => {
    const big = await png(Buffer.alloc(640 * 360 * 4, 200), 640, 360);
    expect(await sharp(await makeThumbnail(big)).metadata()).toMatchObject({
      width: 320,
      height: 180,
      format: 'png',
    });
    expect(await sharp(await makeThumbnail(big, 64)).metadata()).toMatchObject({
      width: 64,
      height: 36,
    });
    const small = await png(Buffer.alloc(100 * 50 * 4, 200), 100, 50);
    expect(await sharp(await makeThumbnail(small)).metadata()).toMatchObject({
      width: 100,
      height: 50,
    });
  });

  it('makes the same thumbnail from raw pixels as from their PNG', async () => {
    const full = fullImage();
    const fromRaw = await makeThumbnail({ data: full, width: W, height: H }, 40);
    const fromPng = await makeThumbnail(await png(full, W, H), 40);
    expect((await decode(fromRaw)).data.equals((await decode(fromPng)).data)).toBe(true);
    expect((await decode(fromRaw)).info).toMatchObject({ width: 40 });
  });
});
