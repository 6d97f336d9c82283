import sharp from 'sharp';
import { pngSize } from './png-size';

const png = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 4, background: '#336699' } })
    .png()
    .toBuffer();

describe('pngSize', () => {
  it('reads the size of a PNG sharp wrote', async () => {
    expect(pngSize(await png(37, 5))).toEqual({ width: 37, height: 5 });
  });

  it('says null for what is not a PNG', async () => {
    const jpeg = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } })
      .jpeg()
      .toBuffer();
    expect(pngSize(jpeg)).toBeNull();
    expect(pngSize(Buffer.from('definitely not a png'))).toBeNull();
    expect(pngSize(Buffer.alloc(0))).toBeNull();
  });

  it('says null for a PNG cut short inside its header', async () => {
    expect(pngSize((await png(8, 8)).subarray(0, 30))).toBeNull();
  });

  it('says null for a header whose first chunk is not IHDR, or whose size is zero', async () => {
    const bytes = Buffer.from(await png(8, 8));
    const renamed = Buffer.from(bytes);
    renamed.write('IDAT', 12, 'latin1');
    expect(pngSize(renamed)).toBeNull();
    const zero = Buffer.from(bytes);
    zero.writeUInt32BE(0, 16);
    expect(pngSize(zero)).toBeNull();
  });
});
