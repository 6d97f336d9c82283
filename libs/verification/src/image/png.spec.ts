import sharp from 'sharp';
import { hashPixels } from './hash';
import { decodePng, encodePng, ImageDecodeError } from './png';
import { RgbaImage, solidImage } from './rgba-image';

function gradient(width: number, height: number): RgbaImage {
  const img = solidImage(width, height);
  for (let i = 0; i < width * height; i++) {
    img.data.set([i % 256, (i * 7) % 256, (i * 13) % 256, 200 + (i % 56)], i * 4);
  }
  return img;
}

describe('decodePng / encodePng', () => {
  it('round-trips RGBA pixels losslessly', async () => {
    const img = gradient(33, 17);
    const back = await decodePng(await encodePng(img));
    expect([back.width, back.height]).toEqual([33, 17]);
    expect(back.data.equals(img.data)).toBe(true);
  });

  it('adds opaque alpha to RGB and expands greyscale', async () => {
    const rgb = await sharp(Buffer.from([10, 20, 30, 40, 50, 60]), {
      raw: { width: 2, height: 1, channels: 3 },
    })
      .png()
      .toBuffer();
    expect([...(await decodePng(rgb)).data]).toEqual([10, 20, 30, 255, 40, 50, 60, 255]);
    const grey = await sharp(Buffer.from([7, 200]), { raw: { width: 2, height: 1, channels: 1 } })
      .png()
      .toBuffer();
    expect([...(await decodePng(grey)).data]).toEqual([7, 7, 7, 255, 200, 200, 200, 255]);
  });

  it('refuses empty input, other formats and corrupt PNGs with ImageDecodeError', async () => {
    await expect(decodePng(Buffer.alloc(0))).rejects.toThrow(ImageDecodeError);
    await expect(decodePng(Buffer.from('hello, not an image'))).rejects.toThrow(/not a PNG/);
    const jpeg = await sharp(gradient(8, 8).data, { raw: { width: 8, height: 8, channels: 4 } })
      .jpeg()
      .toBuffer();
    await expect(decodePng(jpeg)).rejects.toThrow(/not a PNG: \d+ bytes starting ffd8ff/);
    const png = await encodePng(gradient(64, 64));
    await expect(decodePng(png.subarray(0, png.length / 2))).rejects.toThrow(/not a decodable PNG/);
  });
});

describe('hashPixels', () => {
  it('depends on the pixels only, not on the PNG encoding', async () => {
    const img = gradient(20, 20);
    const fast = await decodePng(await encodePng(img, 1));
    const small = await decodePng(await encodePng(img, 9));
    expect(hashPixels(fast)).toBe(hashPixels(small));
    expect(hashPixels(img)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('differs for one changed channel and for the same bytes in another shape', () => {
    const img = gradient(20, 20);
    const changed = { ...img, data: Buffer.from(img.data) };
    changed.data[401] ^= 1;
    expect(hashPixels(changed)).not.toBe(hashPixels(img));
    expect(hashPixels({ width: 40, height: 10, data: img.data })).not.toBe(hashPixels(img));
  });
});
