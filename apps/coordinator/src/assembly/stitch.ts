import type { Margins, PixelRegion } from '@tessera/protocol';
import sharp from 'sharp';

// Pure image assembly: no Nest, no storage. Pixels are copied as raw RGBA8 so the frame is
// bit-exact with the accepted tiles (verification compared those very bytes).

export interface StitchTile {
  png: Buffer;
  /** where the tile sits in the frame, margins included */
  region: PixelRegion;
  /** overlap to crop away on each side (pixels inside `region`) */
  margins: Margins;
}

export class StitchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StitchError';
  }
}

const CHANNELS = 4;

function describe(r: PixelRegion): string {
  return `${r.width}x${r.height}+${r.x}+${r.y}`;
}

/** The part of a tile that ends up in the frame. */
export function coreRegion(region: PixelRegion, margins: Margins): PixelRegion {
  return {
    x: region.x + margins.left,
    y: region.y + margins.top,
    width: region.width - margins.left - margins.right,
    height: region.height - margins.top - margins.bottom,
  };
}

function overlaps(a: PixelRegion, b: PixelRegion): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** First pixel no core covers, for the error message; only computed when the area is short. */
function firstGap(size: { width: number; height: number }, cores: PixelRegion[]) {
  const covered = new Uint8Array(size.width * size.height);
  for (const c of cores) {
    for (let y = c.y; y < c.y + c.height; y++)
      covered.fill(1, y * size.width + c.x, y * size.width + c.x + c.width);
  }
  const i = covered.indexOf(0);
  return { x: i % size.width, y: Math.floor(i / size.width) };
}

/**
 * Throws unless the cores (regions minus margins) tile the frame exactly: every core inside
 * the frame, no two overlapping, and together covering every pixel.
 */
export function assertExactTiling(
  size: { width: number; height: number },
  tiles: { region: PixelRegion; margins: Margins }[],
): PixelRegion[] {
  const isCount = (n: number) => Number.isSafeInteger(n) && n >= 0;
  if (!isCount(size.width) || !isCount(size.height) || size.width * size.height === 0) {
    throw new StitchError(`invalid frame size ${size.width}x${size.height}`);
  }
  const cores = tiles.map(({ region, margins }, i) => {
    const numbers = [region.x, region.y, region.width, region.height, ...Object.values(margins)];
    if (!numbers.every(isCount)) {
      throw new StitchError(`tile ${i}: region and margins must be non-negative integers`);
    }
    const core = coreRegion(region, margins);
    if (core.width <= 0 || core.height <= 0) {
      throw new StitchError(`tile ${i}: margins leave no core in region ${describe(region)}`);
    }
    if (core.x + core.width > size.width || core.y + core.height > size.height) {
      throw new StitchError(
        `tile ${i}: core ${describe(core)} lies outside the ${size.width}x${size.height} frame`,
      );
    }
    return core;
  });
  // Pairwise is fine at farm scale (a 32x32 grid is half a million cheap checks).
  for (let i = 0; i < cores.length; i++) {
    for (let j = i + 1; j < cores.length; j++) {
      if (overlaps(cores[i], cores[j])) {
        throw new StitchError(
          `tiles ${i} and ${j} overlap: cores ${describe(cores[i])} and ${describe(cores[j])}`,
        );
      }
    }
  }
  // Disjoint and in bounds, so equal area means full coverage.
  const area = cores.reduce((sum, c) => sum + c.width * c.height, 0);
  if (area !== size.width * size.height) {
    const gap = firstGap(size, cores);
    throw new StitchError(
      `tiles leave a gap: ${size.width * size.height - area} pixels uncovered, first at (${gap.x}, ${gap.y})`,
    );
  }
  return cores;
}

async function decodeRgba(png: Buffer): Promise<{ data: Buffer; width: number; height: number }> {
  // toColourspace + ensureAlpha: grey or RGB input still comes out as 4 channels.
  const { data, info } = await sharp(png)
    .toColourspace('srgb')
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== CHANNELS)
    throw new StitchError(`decoded ${info.channels} channels, expected 4`);
  return { data, width: info.width, height: info.height };
}

/** A frame's pixels as raw RGBA 8-bit, before any encoding. */
export interface RawFrame {
  data: Buffer;
  width: number;
  height: number;
}

function sharpOf(input: Buffer | RawFrame) {
  return Buffer.isBuffer(input)
    ? sharp(input)
    : sharp(input.data, { raw: { width: input.width, height: input.height, channels: CHANNELS } });
}

/** Crops each tile's margins and composes the frame's pixels. */
export async function composeFrame(
  size: { width: number; height: number },
  tiles: StitchTile[],
): Promise<RawFrame> {
  const cores = assertExactTiling(size, tiles);
  const frame = Buffer.alloc(size.width * size.height * CHANNELS);
  const frameStride = size.width * CHANNELS;

  await Promise.all(
    tiles.map(async ({ png, region, margins }, i) => {
      const tile = await decodeRgba(png);
      if (tile.width !== region.width || tile.height !== region.height) {
        throw new StitchError(
          `tile ${i}: image is ${tile.width}x${tile.height}, region ${describe(region)} expects ${region.width}x${region.height}`,
        );
      }
      const core = cores[i];
      const tileStride = tile.width * CHANNELS;
      const rowBytes = core.width * CHANNELS;
      for (let row = 0; row < core.height; row++) {
        const src = (margins.top + row) * tileStride + margins.left * CHANNELS;
        const dst = (core.y + row) * frameStride + core.x * CHANNELS;
        tile.data.copy(frame, dst, src, src + rowBytes);
      }
    }),
  );

  return { data: frame, width: size.width, height: size.height };
}

/** The frame as an RGBA 8-bit PNG. */
export function encodePng(frame: RawFrame): Promise<Buffer> {
  return sharpOf(frame).png().toBuffer();
}

/** Crops each tile's margins and composes the frame as an RGBA 8-bit PNG. */
export async function stitchFrame(
  size: { width: number; height: number },
  tiles: StitchTile[],
): Promise<Buffer> {
  return encodePng(await composeFrame(size, tiles));
}

/** A small PNG preview for the dashboard, of a PNG or of raw pixels; never enlarges. */
export async function makeThumbnail(input: Buffer | RawFrame, maxWidth = 320): Promise<Buffer> {
  if (!Number.isSafeInteger(maxWidth) || maxWidth <= 0) {
    throw new RangeError('maxWidth must be a positive integer');
  }
  return sharpOf(input).resize({ width: maxWidth, withoutEnlargement: true }).png().toBuffer();
}
