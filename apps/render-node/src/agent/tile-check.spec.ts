import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { checkTile } from './tile-check';

const dir = mkdtempSync(join(tmpdir(), 'tile-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function image(name: string, w: number, h: number, rgba: number[], format: 'png' | 'jpeg') {
  const file = join(dir, name);
  const [r, g, b, alpha] = rgba;
  await sharp({ create: { width: w, height: h, channels: 4, background: { r, g, b, alpha } } })
    .toFormat(format)
    .toFile(file);
  return file;
}

describe('checkTile', () => {
  it('accepts a PNG of the leased size', async () => {
    const file = await image('ok.png', 40, 20, [10, 20, 30, 1], 'png');
    await expect(checkTile(file, { width: 40, height: 20 })).resolves.toBeUndefined();
  });

  it('refuses the wrong size, another format, garbage and a blank tile', async () => {
    const png = await image('size.png', 40, 20, [10, 20, 30, 1], 'png');
    await expect(checkTile(png, { width: 40, height: 21 })).rejects.toThrow(
      'the rendered tile is 40x20, the lease is for 40x21',
    );
    const jpeg = await image('tile.png', 40, 20, [10, 20, 30, 1], 'jpeg');
    await expect(checkTile(jpeg, { width: 40, height: 20 })).rejects.toThrow('is jpeg, not png');
    const junk = join(dir, 'junk.png');
    writeFileSync(junk, 'not an image');
    await expect(checkTile(junk, { width: 40, height: 20 })).rejects.toThrow(
      'not a readable image',
    );
    const blank = await image('blank.png', 40, 20, [0, 0, 0, 0], 'png');
    await expect(checkTile(blank, { width: 40, height: 20 })).rejects.toThrow('blank');
    await expect(
      checkTile(blank, { width: 40, height: 20 }, { allowBlank: true }),
    ).resolves.toBeUndefined();
  });

  it('does not call an opaque black tile blank (a dark region is legitimate)', async () => {
    const black = await image('black.png', 8, 8, [0, 0, 0, 1], 'png');
    await expect(checkTile(black, { width: 8, height: 8 })).resolves.toBeUndefined();
  });
});
