import sharp, { Metadata } from 'sharp';

export class TileCheckError extends Error {
  override readonly name = 'TileCheckError';
}

/**
 * What Blender wrote must be what the lease asked for before it is uploaded: a PNG of exactly the
 * leased size that is not blank. "Blank" is every channel of every pixel zero, which is what an
 * empty render result saves as; a scene with a transparent film may legitimately render that, so
 * the caller says when to skip the test.
 */
export async function checkTile(
  file: string,
  expected: { width: number; height: number },
  opts: { allowBlank?: boolean } = {},
): Promise<void> {
  let meta: Metadata;
  try {
    meta = await sharp(file).metadata();
  } catch (e) {
    throw new TileCheckError(`the rendered tile is not a readable image: ${(e as Error).message}`);
  }
  if (meta.format !== 'png')
    throw new TileCheckError(`the rendered tile is ${meta.format}, not png`);
  if (meta.width !== expected.width || meta.height !== expected.height) {
    throw new TileCheckError(
      `the rendered tile is ${meta.width}x${meta.height}, the lease is for ${expected.width}x${expected.height}`,
    );
  }
  if (opts.allowBlank) return;
  const { channels } = await sharp(file).stats();
  if (channels.every((c) => c.max === 0)) throw new TileCheckError('the rendered tile is blank');
}
