// Structural check of a PNG without decoding its pixels: what a coordinator runs on every
// uploaded tile. A tile whose header is right but whose data is not (cut short, corrupted,
// bad CRC) would pass a header read and then fail verification and assembly on every retry,
// stalling its frame for good; inflating the data in zlib costs about a tenth of a full decode.
import { crc32, inflateSync } from 'node:zlib';
import { ImageDecodeError, MAX_DECODE_PIXELS, PNG_SIGNATURE as SIGNATURE } from './png';

/** Samples per pixel and allowed bit depths of each PNG colour type. */
const COLOUR_TYPES: Record<number, { samples: number; depths: number[] }> = {
  0: { samples: 1, depths: [1, 2, 4, 8, 16] }, // grey
  2: { samples: 3, depths: [8, 16] }, // RGB
  3: { samples: 1, depths: [1, 2, 4, 8] }, // palette
  4: { samples: 2, depths: [8, 16] }, // grey + alpha
  6: { samples: 4, depths: [8, 16] }, // RGBA
};

function fail(why: string): never {
  throw new ImageDecodeError(`not a valid PNG: ${why}`);
}

/**
 * The size a PNG's header states (signature and IHDR only, nothing else checked), or null when
 * `buf` does not start like a PNG. Cheap: for refusing a tile of the wrong size before checkPng.
 */
export function pngHeaderSize(buf: Buffer): { width: number; height: number } | null {
  if (buf.length < 24 || !buf.subarray(0, 8).equals(SIGNATURE)) return null;
  if (buf.readUInt32BE(8) !== 13 || buf.toString('latin1', 12, 16) !== 'IHDR') return null;
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

/**
 * Checks that `buf` is a whole, well-formed, non-interlaced PNG (signature, chunk CRCs, IHDR,
 * palette when needed, image data that inflates to exactly its rows with valid filter types,
 * IEND) and returns its size. Throws ImageDecodeError saying what is wrong otherwise.
 */
export function checkPng(buf: Buffer): { width: number; height: number } {
  if (buf.length < SIGNATURE.length || !buf.subarray(0, 8).equals(SIGNATURE)) {
    fail('no PNG signature');
  }
  let header: { width: number; height: number; rowBytes: number } | null = null;
  let palette = false;
  const data: Buffer[] = [];
  let ended = false;
  for (let at = 8; !ended;) {
    if (at + 12 > buf.length) fail('cut short before its end chunk');
    const length = buf.readUInt32BE(at);
    if (at + 12 + length > buf.length) fail('cut short inside a chunk');
    const type = buf.toString('latin1', at + 4, at + 8);
    const body = buf.subarray(at + 8, at + 8 + length);
    if (crc32(buf.subarray(at + 4, at + 8 + length)) !== buf.readUInt32BE(at + 8 + length)) {
      fail(`bad CRC in its ${type} chunk`);
    }
    if (header === null && type !== 'IHDR') fail('the first chunk is not IHDR');
    if (type === 'IHDR') {
      if (header !== null) fail('more than one IHDR chunk');
      header = readHeader(body);
    } else if (type === 'PLTE') {
      palette = true;
    } else if (type === 'IDAT') {
      data.push(body);
    } else if (type === 'IEND') {
      ended = true;
    }
    at += 12 + length;
  }
  const { width, height, rowBytes } = header!;
  if (data.length === 0) fail('no image data');
  if (rowBytes < 0 && !palette) fail('a palette image without a palette');
  const stride = Math.abs(rowBytes) + 1;
  let rows: Buffer;
  try {
    // one byte more than the rows need: enough to tell that there is too much
    rows = inflateSync(Buffer.concat(data), { maxOutputLength: height * stride + 1 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
      fail(`its image data holds more than ${width}x${height} needs`);
    fail(`its image data does not inflate (${(e as Error).message})`);
  }
  if (rows.length !== height * stride) {
    fail(`its image data holds ${rows.length} bytes, ${width}x${height} needs ${height * stride}`);
  }
  for (let y = 0; y < height; y++) {
    if (rows[y * stride] > 4) fail(`row ${y} has filter type ${rows[y * stride]}`);
  }
  return { width, height };
}

/** IHDR fields; rowBytes is negative for palette images (they need a PLTE chunk). */
function readHeader(body: Buffer): { width: number; height: number; rowBytes: number } {
  if (body.length !== 13) fail('IHDR is not 13 bytes');
  const width = body.readUInt32BE(0);
  const height = body.readUInt32BE(4);
  const [depth, colour, compression, filter, interlace] = body.subarray(8, 13);
  if (width === 0 || height === 0) fail(`size ${width}x${height}`);
  if (width * height > MAX_DECODE_PIXELS) fail(`${width}x${height} is too large`);
  const kind = COLOUR_TYPES[colour];
  if (!kind || !kind.depths.includes(depth)) fail(`colour type ${colour} at bit depth ${depth}`);
  if (compression !== 0 || filter !== 0) fail('unknown compression or filter method');
  // Tiles come from the agent's Blender, which writes progressive rows; Adam7 is not accepted.
  if (interlace !== 0) fail('interlaced');
  const rowBytes = Math.ceil((width * kind.samples * depth) / 8);
  return { width, height, rowBytes: colour === 3 ? -rowBytes : rowBytes };
}
