import { createHash } from 'node:crypto';
import { assertRgbaImage, RgbaImage } from './rgba-image';

/**
 * sha256 (hex) of the decoded pixels and their size: equal for the same pixels whatever the PNG
 * encoder, compression or metadata. Use it to spot replays (the same pixels uploaded twice) and
 * as the cache key of exact comparisons.
 */
export function hashPixels(img: RgbaImage): string {
  assertRgbaImage(img);
  const header = Buffer.alloc(12);
  header.write('RGBA', 0, 'latin1');
  header.writeUInt32BE(img.width, 4);
  header.writeUInt32BE(img.height, 8);
  return createHash('sha256').update(header).update(img.data).digest('hex');
}
