// Walks the frame structure of a zstd stream (RFC 8878) without decompressing it.
//
// Node 20 has no zstd decoder, so a zstd-compressed .blend (Blender 3.0+ "Compress" option) cannot
// have its blocks checked here. Walking frame and block headers still catches truncation and
// garbage cheaply. Blender writes the "seekable" variant: many frames and then a skippable frame
// holding a seek table, which we cross-check against the frames we saw.
import { BlendFileError } from './blend-file-error';
import { ChunkWalker, WalkNext, WalkStep } from './chunk-walker';

const FRAME_MAGIC = 0xfd2fb528;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
const SEEK_TABLE_MAGIC = 0x184d2a5e;
const SEEK_FOOTER_MAGIC = 0x8f92eab1;
const MAX_BLOCK = 128 * 1024;
// A seek table this big would index terabytes; larger skippable frames are just skipped.
const MAX_SEEK_TABLE = 16 * 1024 * 1024;

export interface ZstdStructure {
  frames: number;
  /** sum of the frames' declared content sizes, null when a frame does not declare one */
  contentBytes: number | null;
  /** a seek table was found and agrees with the frames */
  seekTable: boolean;
  bytes: number;
}

export function isZstdMagic(buf: Buffer): boolean {
  if (buf.length < 4) return false;
  const m = buf.readUInt32LE(0);
  return m === FRAME_MAGIC || (m & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC;
}

function corrupt(message: string): BlendFileError {
  return new BlendFileError('CORRUPT', `corrupt zstd-compressed .blend: ${message}`);
}

export class ZstdFrameWalker {
  private readonly walker: ChunkWalker;
  private frames = 0;
  private contentBytes: number | null = 0;
  private seekTable = false;
  private frameOffset = 0;
  /** compressed bytes of all zstd (non-skippable) frames so far, as a seek table counts them */
  private frameBytes = 0;
  private readonly magicStep: WalkStep;

  constructor() {
    this.magicStep = { headerBytes: 4, parse: (b, offset) => this.parseMagic(b, offset) };
    this.walker = new ChunkWalker(this.magicStep);
  }

  push(chunk: Buffer): void {
    this.walker.push(chunk);
  }

  finish(): ZstdStructure {
    const s = this.walker.state;
    if (s.offset === 0) throw new BlendFileError('EMPTY', 'empty file');
    const atBoundary = s.step === this.magicStep && s.pending.length === 0 && s.skipRemaining === 0;
    if (!atBoundary) {
      throw new BlendFileError(
        'TRUNCATED',
        `truncated .blend (zstd): the frame at offset ${this.frameOffset} runs past the end of the file (${s.offset} bytes)`,
      );
    }
    if (this.frames === 0) throw corrupt('no zstd frame');
    return {
      frames: this.frames,
      contentBytes: this.contentBytes,
      seekTable: this.seekTable,
      bytes: s.offset,
    };
  }

  private parseMagic(b: Buffer, offset: number): WalkNext {
    this.frameOffset = offset;
    const magic = b.readUInt32LE(0);
    if (magic === FRAME_MAGIC) {
      this.frames++;
      return { skip: 0, next: { headerBytes: 1, parse: (d) => this.parseDescriptor(d[0]) } };
    }
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      return {
        skip: 0,
        next: { headerBytes: 4, parse: (sz) => this.parseSkippable(magic, sz.readUInt32LE(0)) },
      };
    }
    throw corrupt(`no zstd frame at offset ${offset}`);
  }

  private parseDescriptor(d: number): WalkNext {
    if (d & 0x08) throw corrupt(`reserved bit set in the frame at offset ${this.frameOffset}`);
    const fcsFlag = d >> 6;
    const singleSegment = (d >> 5) & 1;
    const checksum = (d >> 2) & 1;
    const dictBytes = [0, 1, 2, 4][d & 3];
    const fcsBytes = fcsFlag === 0 ? singleSegment : [0, 2, 4, 8][fcsFlag];
    const windowBytes = singleSegment ? 0 : 1;
    const rest = windowBytes + dictBytes + fcsBytes;
    const blocks = this.blockStep(checksum === 1);
    if (fcsBytes === 0) this.contentBytes = null;
    if (rest === 0) return { skip: 0, next: blocks };
    return {
      skip: 0,
      next: {
        headerBytes: rest,
        parse: (h) => {
          if (fcsBytes > 0 && this.contentBytes !== null) {
            const f = h.subarray(rest - fcsBytes);
            const size =
              fcsBytes === 1
                ? f[0]
                : fcsBytes === 2
                  ? f.readUInt16LE(0) + 256
                  : fcsBytes === 4
                    ? f.readUInt32LE(0)
                    : Number(f.readBigUInt64LE(0));
            this.contentBytes += size;
          }
          return { skip: 0, next: blocks };
        },
      },
    };
  }

  private blockStep(checksum: boolean): WalkStep {
    const step: WalkStep = {
      headerBytes: 3,
      parse: (h, offset) => {
        const v = h[0] | (h[1] << 8) | (h[2] << 16);
        const last = v & 1;
        const type = (v >> 1) & 3;
        const size = v >>> 3;
        if (type === 3) throw corrupt(`reserved block type at offset ${offset}`);
        if (size > MAX_BLOCK) throw corrupt(`oversized block at offset ${offset}`);
        const payload = type === 1 ? 1 : size; // RLE blocks store one byte
        if (!last) return { skip: payload, next: step };
        const skip = payload + (checksum ? 4 : 0);
        this.frameBytes += offset + 3 + skip - this.frameOffset;
        return { skip, next: this.magicStep };
      },
    };
    return step;
  }

  private parseSkippable(magic: number, size: number): WalkNext {
    if (magic !== SEEK_TABLE_MAGIC || size < 9 || size > MAX_SEEK_TABLE) {
      return { skip: size, next: this.magicStep };
    }
    return {
      skip: 0,
      next: {
        headerBytes: size,
        parse: (t) => {
          this.checkSeekTable(t);
          return { skip: 0, next: this.magicStep };
        },
      },
    };
  }

  private checkSeekTable(t: Buffer): void {
    if (t.readUInt32LE(t.length - 4) !== SEEK_FOOTER_MAGIC) return; // some other skippable data
    const count = t.readUInt32LE(t.length - 9);
    const entry = t[t.length - 5] & 0x80 ? 12 : 8;
    if (count * entry + 9 !== t.length) throw corrupt('malformed seek table');
    let compressed = 0;
    for (let i = 0; i < count; i++) compressed += t.readUInt32LE(i * entry);
    if (count !== this.frames || compressed !== this.frameBytes) {
      throw corrupt(
        `the seek table lists ${count} frames (${compressed} bytes) but the file has ${this.frames} (${this.frameBytes} bytes)`,
      );
    }
    this.seekTable = true;
  }
}
