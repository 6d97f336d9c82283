// PNG <-> RgbaImage. Decoding is lossless for 8-bit PNG; 16-bit input
// is reduced to 8 bits by sharp, which is what the comparisons are calibrated on.
import sharp from 'sharp';
import { assertRgbaImage, RgbaImage } from './rgba-image';

export class ImageDecodeError extends Error {
  override readonly name = 'ImageDecodeError';
}

/** Largest image decodePng accepts (pixels); a 16K frame is 134 Mpx. */
export const MAX_DECODE_PIXELS = 16384 * 16384;

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Decode a PNG to 8-bit RGBA (alpha added when the PNG has none, greyscale expanded to RGB).
 * Anything else (empty, truncated, another format, too large) throws ImageDecodeError.
 */
export async function decodePng(buf: Buffer): Promise<RgbaImage> {
  if (!Buffer.isBuffer(buf) || buf.length === 0) {
    throw new ImageDecodeError('not a PNG: empty input');
  }
  if (buf.length < 8 || !buf.subarray(0, 8).equals(PNG_SIGNATURE)) {
    throw new ImageDecodeError(
      `not a PNG: ${buf.length} bytes starting ${buf.subarray(0, 8).toString('hex')}`,
    );
  }
  try {
    const { data, info } = await sharp(buf, {
      limitInputPixels: MAX_DECODE_PIXELS,
      failOn: 'error',
    })
      .ensureAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 4) {
      throw new ImageDecodeError(`decoded to ${info.channels} channels, expected RGBA`);
    }
    const img = { width: info.width, height: info.height, data };
    assertRgbaImage(img, 'decoded image');
    return img;
  } catch (e) {
    if (e instanceof ImageDecodeError) throw e;
    const head = buf.subarray(0, 8).toString('hex');
    throw new ImageDecodeError(
      `not a decodable PNG (${buf.length} bytes, starts ${head}): ${(e as Error).message}`,
    );
  }
}

/** Lossless PNG of the image (fixtures, previews of diffs, tests). */
export async function encodePng(img: RgbaImage, compressionLevel = 9): Promise<Buffer> {
  assertRgbaImage(img);
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 4 } })
    .png({ compressionLevel, adaptiveFiltering: true })
    .toBuffer();
}
