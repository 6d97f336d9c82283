// The one pixel format the verification library works on: 8-bit RGBA, row-major, no padding.
// Everything Blender uploads (PNG, 8-bit, RGBA) decodes to this losslessly.

export interface RgbaImage {
  width: number;
  height: number;
  /** width * height * 4 bytes: R, G, B, A per pixel, rows top to bottom */
  data: Buffer;
}

export function assertRgbaImage(img: RgbaImage, what = 'image'): void {
  const { width, height, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`${what}: invalid size ${width}x${height}`);
  }
  if (!Buffer.isBuffer(data) || data.length !== width * height * 4) {
    throw new RangeError(
      `${what}: ${width}x${height} RGBA needs ${width * height * 4} bytes, got ${Buffer.isBuffer(data) ? data.length : typeof data}`,
    );
  }
}

/** A new image filled with one colour (default opaque black). */
export function solidImage(
  width: number,
  height: number,
  rgba: readonly [number, number, number, number] = [0, 0, 0, 255],
): RgbaImage {
  const data = Buffer.alloc(width * height * 4);
  for (let i = 0; i < data.length; i += 4) {
    data[i] = rgba[0];
    data[i + 1] = rgba[1];
    data[i + 2] = rgba[2];
    data[i + 3] = rgba[3];
  }
  const img = { width, height, data };
  assertRgbaImage(img);
  return img;
}
