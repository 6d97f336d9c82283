// Walks the block structure of an uncompressed .blend stream.
//
// Legacy header (every Blender up to 4.x), 12 bytes:
//   "BLENDER", pointer size '_' (4) | '-' (8), endianness 'v' (little) | 'V' (big), 3-digit version
//   then blocks: code[4], length int32, old pointer (4|8 bytes), sdna index int32, count int32.
// Format 1 header (Blender 5.0+), 17 bytes: "BLENDER" "17" "-" "01" "v" + 4-digit version
//   then blocks: code[4], sdna index int32, old pointer uint64, length int64, count int64.
// A complete file ends with an "ENDB" block and always contains a "DNA1" block.
import { BlendFileError, printableCode } from './blend-file-error';
import { ChunkWalker, WalkNext, WalkStep } from './chunk-walker';

const MAGIC = Buffer.from('BLENDER', 'latin1');
const ENDB = Buffer.from('ENDB', 'latin1');
const DNA1 = Buffer.from('DNA1', 'latin1');

export interface BlendFileHeader {
  pointerSize: 4 | 8;
  endianness: 'little' | 'big';
  /** the header's version digits, e.g. 304 */
  versionCode: number;
  /** human form, e.g. "3.4" or "2.79" */
  version: string;
  /** low-level file format: 0 = legacy 12-byte header, 1 = Blender 5.0+ large block headers */
  formatVersion: 0 | 1;
}

export interface BlendStructure {
  header: BlendFileHeader;
  blockCount: number;
  /** bytes of the .blend stream, ENDB included */
  bytes: number;
  /** bytes after ENDB (ignored by Blender) */
  trailingBytes: number;
}

interface LastBlock {
  code: string;
  offset: number;
  length: number;
}

export function versionName(code: number): string {
  const major = Math.floor(code / 100);
  const minor = code % 100;
  // 2.79 style before 3.0, 3.4 / 4.2 style after.
  return major < 3 ? `${major}.${String(minor).padStart(2, '0')}` : `${major}.${minor}`;
}

function digits(buf: Buffer, what: string): number {
  const text = buf.toString('latin1');
  if (!/^[0-9]+$/.test(text)) {
    throw new BlendFileError('CORRUPT', `corrupt .blend header: ${what} "${text}" is not a number`);
  }
  return Number(text);
}

function notBlend(): BlendFileError {
  return new BlendFileError('NOT_BLEND', 'not a .blend file (missing BLENDER header)');
}

export class BlendStructureWalker {
  private readonly walker: ChunkWalker;
  private header: BlendFileHeader | null = null;
  private blockCount = 0;
  private sawDna = false;
  private last: LastBlock | null = null;

  constructor() {
    this.walker = new ChunkWalker({ headerBytes: 12, parse: (h) => this.parseHeader(h) });
  }

  push(chunk: Buffer): void {
    this.walker.push(chunk);
  }

  /** Call at end of stream: returns the structure or throws a BlendFileError saying what is wrong. */
  finish(): BlendStructure {
    const s = this.walker.state;
    if (s.offset === 0) throw new BlendFileError('EMPTY', 'empty file');
    if (this.header === null) {
      const head = s.pending.subarray(0, MAGIC.length);
      if (!head.equals(MAGIC.subarray(0, head.length))) throw notBlend();
      throw new BlendFileError('TRUNCATED', `truncated .blend: the file is only ${s.offset} bytes`);
    }
    if (s.step !== null) {
      if (s.skipRemaining > 0 && this.last) {
        const b = this.last;
        throw new BlendFileError(
          'TRUNCATED',
          `truncated .blend: block ${b.code} at offset ${b.offset} (${b.length} bytes) runs past the end of the file (${s.offset} bytes)`,
        );
      }
      // Format 1 files may end with a short 8-byte ENDB (code + 4 bytes), as Blender reads them.
      const shortEndb = s.pending.length === 8 && s.pending.subarray(0, 4).equals(ENDB);
      if (shortEndb && this.header.formatVersion === 1) {
        return this.result(s.offset, 0);
      }
      if (s.pending.length > 0) {
        throw new BlendFileError(
          'TRUNCATED',
          `truncated .blend: block header at offset ${s.stepOffset} is cut off by the end of the file (${s.offset} bytes)`,
        );
      }
      const after = this.last ? ` after block ${this.last.code} at offset ${this.last.offset}` : '';
      throw new BlendFileError(
        'TRUNCATED',
        `truncated .blend: no ENDB block, the file ends${after} (${s.offset} bytes)`,
      );
    }
    return this.result(s.offset - s.trailingBytes, s.trailingBytes);
  }

  private result(bytes: number, trailingBytes: number): BlendStructure {
    if (!this.sawDna) {
      throw new BlendFileError('CORRUPT', 'corrupt .blend: no DNA1 block (Blender cannot read it)');
    }
    return { header: this.header!, blockCount: this.blockCount, bytes, trailingBytes };
  }

  private parseHeader(h: Buffer): WalkNext {
    if (!h.subarray(0, 7).equals(MAGIC)) throw notBlend();
    const p = String.fromCharCode(h[7]);
    if (p === '_' || p === '-') {
      const e = String.fromCharCode(h[8]);
      if (e !== 'v' && e !== 'V') {
        throw new BlendFileError('CORRUPT', `corrupt .blend header: unknown endianness "${e}"`);
      }
      const versionCode = digits(h.subarray(9, 12), 'version');
      this.header = {
        pointerSize: p === '_' ? 4 : 8,
        endianness: e === 'v' ? 'little' : 'big',
        versionCode,
        version: versionName(versionCode),
        formatVersion: 0,
      };
      return { skip: 0, next: this.blockStep() };
    }
    // Blender 5.0+: "BLENDER" + 2-digit header size; read the 5 remaining bytes.
    const size = digits(h.subarray(7, 9), 'header size');
    if (size !== 17) {
      throw new BlendFileError('CORRUPT', `unsupported .blend header (size ${size})`);
    }
    const first = Buffer.from(h);
    return {
      skip: 0,
      next: {
        headerBytes: 5,
        parse: (rest) => this.parseLargeHeader(Buffer.concat([first, rest])),
      },
    };
  }

  private parseLargeHeader(h: Buffer): WalkNext {
    const format = digits(h.subarray(10, 12), 'format version');
    if (h[9] !== 0x2d || format !== 1 || h[12] !== 0x76) {
      throw new BlendFileError('CORRUPT', `unsupported .blend header "${h.toString('latin1')}"`);
    }
    const versionCode = digits(h.subarray(13, 17), 'version');
    this.header = {
      pointerSize: 8,
      endianness: 'little',
      versionCode,
      version: versionName(versionCode),
      formatVersion: 1,
    };
    return { skip: 0, next: this.blockStep() };
  }

  private blockStep(): WalkStep {
    const header = this.header!;
    const large = header.formatVersion === 1;
    const le = header.endianness === 'little';
    const step: WalkStep = {
      headerBytes: large ? 32 : 16 + header.pointerSize,
      parse: (b, offset) => {
        const codeBytes = b.subarray(0, 4);
        const code = printableCode(codeBytes);
        const length = large
          ? Number(b.readBigInt64LE(16))
          : le
            ? b.readInt32LE(4)
            : b.readInt32BE(4);
        if (length < 0) {
          throw new BlendFileError(
            'CORRUPT',
            `corrupt .blend: block ${code} at offset ${offset} has a negative length`,
          );
        }
        this.blockCount++;
        this.last = { code, offset, length };
        if (codeBytes.equals(DNA1)) this.sawDna = true;
        if (codeBytes.equals(ENDB)) return { skip: length, next: null };
        return { skip: length, next: step };
      },
    };
    return step;
  }
}
