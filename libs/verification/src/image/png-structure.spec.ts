import sharp from 'sharp';
import { crc32, deflateSync } from 'node:zlib';
import { decodePng, encodePng, ImageDecodeError } from './png';
import { checkPng, pngHeaderSize } from './png-structure';
import { solidImage } from './rgba-image';

async function tile(width = 24, height = 10): Promise<Buffer> {
  const img = solidImage(width, height);
  for (let i = 0; i < img.data.length; i++) img.data[i] = (i * 31) % 251;
  return encodePng(img);
}

/** The byte offset of each chunk of a PNG, by type (first of each). */
function chunkAt(png: Buffer, type: string): number {
  for (let at = 8; at < png.length; at += 12 + png.readUInt32BE(at)) {
    if (png.toString('latin1', at + 4, at + 8) === type) return at;
  }
  throw new Error(`no ${type}`);
}

/** Rebuilds a PNG from IHDR fields and raw filtered rows (CRCs right), to make odd ones. */
function assemble(ihdr: Buffer, rows: Buffer, extra: Buffer[] = []): Buffer {
  const chunk = (type: string, body: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(body.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0);
    return Buffer.concat([head, body, crc]);
  };
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    ...extra,
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function ihdr(width: number, height: number, depth = 8, colour = 6, interlace = 0): Buffer {
  const b = Buffer.alloc(13);
  b.writeUInt32BE(width, 0);
  b.writeUInt32BE(height, 4);
  b.set([depth, colour, 0, 0, interlace], 8);
  return b;
}

describe('checkPng', () => {
  it('accepts what the encoder writes, in every colour type sharp produces', async () => {
    expect(checkPng(await tile(24, 10))).toEqual({ width: 24, height: 10 });
    for (const channels of [1, 2, 3, 4] as const) {
      const png = await sharp(Buffer.alloc(5 * 3 * channels, 90), {
        raw: { width: 5, height: 3, channels },
      })
        .png()
        .toBuffer();
      expect(checkPng(png)).toEqual({ width: 5, height: 3 });
    }
    const palette = await sharp(await tile())
      .png({ palette: true })
      .toBuffer();
    expect(checkPng(palette)).toEqual({ width: 24, height: 10 });
  });

  it('refuses every way a tile can be broken that a header read lets through, as decodePng does', async () => {
    const good = await tile();
    const idat = chunkAt(good, 'IDAT');
    const cut = good.subarray(0, idat + 20);
    const flipped = Buffer.from(good);
    flipped[idat + 10] ^= 0xff; // inside the compressed data: the CRC no longer matches
    const rows = Buffer.alloc(10 * (1 + 24 * 4));
    const badFilter = Buffer.from(rows);
    badFilter[0] = 9;
    const cases: [string, Buffer, RegExp][] = [
      ['cut short', cut, /cut short/],
      ['a flipped byte', flipped, /bad CRC in its IDAT chunk/],
      [
        'too few rows',
        assemble(ihdr(24, 10), rows.subarray(0, rows.length - 5)),
        /holds \d+ bytes/,
      ],
      ['too many rows', assemble(ihdr(24, 10), Buffer.concat([rows, rows])), /more than 24x10/],
      ['a bad filter type', assemble(ihdr(24, 10), badFilter), /row 0 has filter type 9/],
      ['interlaced', assemble(ihdr(24, 10, 8, 6, 1), rows), /interlaced/],
      [
        'a palette image without a palette',
        assemble(ihdr(24, 10, 8, 3), rows),
        /without a palette/,
      ],
      ['an impossible bit depth', assemble(ihdr(24, 10, 3, 6), rows), /bit depth 3/],
      ['not a PNG at all', Buffer.from('definitely not a png'), /no PNG signature/],
    ];
    for (const [name, bytes, why] of cases) {
      let thrown: unknown = null;
      try {
        checkPng(bytes);
      } catch (e) {
        thrown = e;
      }
      expect({ name, error: thrown instanceof ImageDecodeError, message: String(thrown) }).toEqual({
        name,
        error: true,
        message: expect.stringMatching(why),
      });
    }
    // the cases sharp would also refuse are refused here before anything decodes them
    for (const bytes of [cut, assemble(ihdr(24, 10), rows.subarray(0, 50))]) {
      await expect(decodePng(bytes)).rejects.toThrow(ImageDecodeError);
    }
  });

  it('accepts hand-built rows that sharp decodes too (the builder above is sound)', async () => {
    const rows = Buffer.alloc(3 * (1 + 4 * 4), 7);
    for (let y = 0; y < 3; y++) rows[y * 17] = y % 5; // filter types 0..2
    const png = assemble(ihdr(4, 3), rows);
    expect(checkPng(png)).toEqual({ width: 4, height: 3 });
    await expect(decodePng(png)).resolves.toMatchObject({ width: 4, height: 3 });
  });
});

describe('pngHeaderSize', () => {
  it("reads the size from the header alone, or says null for what is not a PNG's", async () => {
    const good = await tile(37, 5);
    expect(pngHeaderSize(good)).toEqual({ width: 37, height: 5 });
    expect(pngHeaderSize(good.subarray(0, 40))).toEqual({ width: 37, height: 5 });
    expect(pngHeaderSize(Buffer.from('definitely not a png'))).toBeNull();
    expect(pngHeaderSize(Buffer.alloc(0))).toBeNull();
  });
});
