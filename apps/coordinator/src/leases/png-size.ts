const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * The width and height in a PNG's header, or null when `bytes` does not start like a PNG
 * (signature, then the IHDR chunk of 13 bytes). Only the header: the pixels are decoded later,
 * by verification and assembly, which reject a tile that does not decode. Reading 24 bytes here
 * instead of asking sharp keeps libvips' thread pool out of every completion.
 */
export function pngSize(bytes: Buffer): { width: number; height: number } | null {
  if (bytes.length < 33 || !bytes.subarray(0, 8).equals(SIGNATURE)) return null;
  if (bytes.readUInt32BE(8) !== 13 || bytes.toString('latin1', 12, 16) !== 'IHDR') return null;
  const width = bytes.readUInt32BE(16);
  const height = bytes.readUInt32BE(20);
  // zero is not a valid dimension, and neither is anything past 2^31 - 1 (PNG spec)
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) return null;
  return { width, height };
}
