// The cheat classes of the e2e catalogue (test/support/cheats.ts), as pixel transforms of real
// renders. test/ is not built, so the transforms are re-implemented here on RgbaImage; the ones
// that need Blender (fewer samples, another frame, another seed) take renders made by the bench.
import type { PixelRegion } from '@tessera/protocol';
import {
  fillRegion,
  cropImage,
  interiorRegion,
  randomInt,
  RgbaImage,
  Rng,
  solidImage,
  TileGeometry,
} from '@tessera/verification';
import sharp from 'sharp';

/** Everything a cheating node could make a tile from, for one tile of one frame. */
export interface CheatSources {
  tile: TileGeometry;
  frame: number;
  /** the honest render of the tile (what the node should upload) */
  honest: RgbaImage;
  /** the same region rendered with 1/8 of the samples */
  fewSamples: RgbaImage;
  /** the same region of another frame of the shot (a tile render) */
  otherFrame: RgbaImage;
  /** the same region of another frame, cut from an earlier full-frame render (e2e's replay) */
  earlierFullFrame: RgbaImage;
  /** the same region rendered in an earlier job with another seed */
  otherSeed: RgbaImage;
  /** a region of the same size elsewhere in this frame (cut from a full-frame render) */
  otherRegion: RgbaImage;
}

export type CheatGroup = 'whole-tile' | 'margin-aware' | 'partial';

export interface FakedTile {
  img: RgbaImage;
  /** the faked pixels, frame coordinates */
  fake: PixelRegion;
}

export interface CheatClass {
  id: string;
  label: string;
  group: CheatGroup;
  /** part of the list (the rest are extra, for information) */
  required: boolean;
  /** partial fakes are placed at random: made again for every check */
  perTrial: boolean;
  make(src: CheatSources, rng: Rng): Promise<FakedTile>;
}

const MAGENTA: [number, number, number, number] = [255, 0, 255, 255];
const GREY: [number, number, number, number] = [0x7f, 0x7f, 0x7f, 255];

function copy(img: RgbaImage): RgbaImage {
  return { width: img.width, height: img.height, data: Buffer.from(img.data) };
}

/** `rect` (image coordinates) of `img` filled with a colour, or with its own mean colour. */
export const paint = fillRegion;

/** `base` with `rect` (image coordinates) replaced by the same pixels of `from`. */
function transplant(base: RgbaImage, from: RgbaImage, rect: PixelRegion): RgbaImage {
  const out = copy(base);
  const rowBytes = rect.width * 4;
  for (let y = rect.y; y < rect.y + rect.height; y++) {
    const start = (y * base.width + rect.x) * 4;
    from.data.copy(out.data, start, start, start + rowBytes);
  }
  return out;
}

function noise(width: number, height: number, rng: Rng): RgbaImage {
  const img = solidImage(width, height);
  for (let i = 0; i < img.data.length; i += 4) {
    for (let c = 0; c < 3; c++) img.data[i + c] = Math.floor(rng() * 256);
  }
  return img;
}

/** e2e's "25% resolution upscaled": shrink to a quarter of each side, scale back up (linear). */
export async function upscaled25(img: RgbaImage): Promise<RgbaImage> {
  const raw = { width: img.width, height: img.height, channels: 4 as const };
  const small = await sharp(img.data, { raw })
    .resize(Math.max(1, Math.round(img.width / 4)), Math.max(1, Math.round(img.height / 4)))
    .raw()
    .toBuffer({ resolveWithObject: true });
  const data = await sharp(small.data, {
    raw: { width: small.info.width, height: small.info.height, channels: 4 },
  })
    .resize(img.width, img.height, { kernel: 'linear' })
    .raw()
    .toBuffer();
  return { width: img.width, height: img.height, data };
}

const relative = (r: PixelRegion, to: PixelRegion): PixelRegion => ({
  x: r.x - to.x,
  y: r.y - to.y,
  width: r.width,
  height: r.height,
});

/** The interior a margin-aware cheater fakes (everything no overlap strip covers). */
const interiorOf = (tile: TileGeometry) => interiorRegion(tile.region, tile.margins);

/** A patch of `fraction` of the interior's area (same aspect), at a random place inside it. */
function randomPatch(tile: TileGeometry, fraction: number, rng: Rng): PixelRegion {
  const interior = interiorOf(tile);
  const side = Math.sqrt(fraction);
  const width = Math.max(1, Math.round(interior.width * side));
  const height = Math.max(1, Math.round(interior.height * side));
  return {
    x: randomInt(rng, interior.x, interior.x + interior.width - width),
    y: randomInt(rng, interior.y, interior.y + interior.height - height),
    width,
    height,
  };
}

const whole = (src: CheatSources, img: RgbaImage): FakedTile => ({ img, fake: src.tile.region });

export const PATCH_FRACTION = 0.1;

export const CHEAT_CLASSES: readonly CheatClass[] = [
  {
    id: 'black',
    label: 'black tile',
    group: 'whole-tile',
    required: true,
    perTrial: false,
    make: async (s) => whole(s, solidImage(s.honest.width, s.honest.height)),
  },
  {
    id: 'noise',
    label: 'random noise',
    group: 'whole-tile',
    required: true,
    perTrial: false,
    make: async (s, rng) => whole(s, noise(s.honest.width, s.honest.height, rng)),
  },
  {
    id: 'samples-8',
    label: '1/8 of the samples',
    group: 'whole-tile',
    required: true,
    perTrial: false,
    make: async (s) => whole(s, s.fewSamples),
  },
  {
    id: 'wrong-frame',
    label: 'the wrong frame',
    group: 'whole-tile',
    required: true,
    perTrial: false,
    make: async (s) => whole(s, s.otherFrame),
  },
  {
    id: 'upscaled',
    label: '25% resolution upscaled',
    group: 'whole-tile',
    required: true,
    perTrial: false,
    make: async (s) => whole(s, await upscaled25(s.honest)),
  },
  {
    id: 'replay-earlier',
    label: 'replay of an earlier result (another frame)',
    group: 'whole-tile',
    required: true,
    perTrial: false,
    make: async (s) => whole(s, s.earlierFullFrame),
  },
  {
    id: 'replay-seed',
    label: 'replay from another job (other seed)',
    group: 'whole-tile',
    required: false,
    perTrial: false,
    make: async (s) => whole(s, s.otherSeed),
  },
  {
    id: 'replay-region',
    label: 'replay of another region',
    group: 'whole-tile',
    required: false,
    perTrial: false,
    make: async (s) => whole(s, s.otherRegion),
  },
  {
    id: 'margin-aware',
    label: 'correct margins, faked interior (grey, as e2e)',
    group: 'margin-aware',
    required: true,
    perTrial: false,
    make: async (s) => {
      const fake = interiorOf(s.tile);
      return { img: paint(s.honest, relative(fake, s.tile.region), GREY), fake };
    },
  },
  {
    id: 'margin-aware-upscaled',
    label: 'correct margins, interior 25% upscaled',
    group: 'margin-aware',
    required: false,
    perTrial: false,
    make: async (s) => {
      const fake = interiorOf(s.tile);
      const img = transplant(s.honest, await upscaled25(s.honest), relative(fake, s.tile.region));
      return { img, fake };
    },
  },
  {
    id: 'painted',
    label: '10% painted over (magenta)',
    group: 'partial',
    required: true,
    perTrial: true,
    make: async (s, rng) => {
      const fake = randomPatch(s.tile, PATCH_FRACTION, rng);
      return { img: paint(s.honest, relative(fake, s.tile.region), MAGENTA), fake };
    },
  },
  {
    id: 'painted-mean',
    label: '10% painted with its own mean colour',
    group: 'partial',
    required: false,
    perTrial: true,
    make: async (s, rng) => {
      const fake = randomPatch(s.tile, PATCH_FRACTION, rng);
      return { img: paint(s.honest, relative(fake, s.tile.region), 'mean'), fake };
    },
  },
];

/** `region` (frame coordinates) cut out of a full-frame image. */
export function cutFrame(full: RgbaImage, region: PixelRegion): RgbaImage {
  return cropImage(full, region);
}
