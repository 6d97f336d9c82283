import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BlendFileError } from './blend-file-error';
import { validateBlendFile, validateBlendHeader } from './blend-header';

interface Block {
  code: string;
  data: Buffer;
}

/** A minimal legacy .blend: header, blocks, DNA1, ENDB. */
function legacyBlend(
  blocks: Block[],
  opts: { pointer?: 4 | 8; big?: boolean; version?: string; endb?: boolean } = {},
): Buffer {
  const pointer = opts.pointer ?? 8;
  const big = opts.big ?? false;
  const parts: Buffer[] = [
    Buffer.from(`BLENDER${pointer === 8 ? '-' : '_'}${big ? 'V' : 'v'}${opts.version ?? '304'}`),
  ];
  const all = [...blocks, { code: 'DNA1', data: Buffer.alloc(40, 1) }];
  if (opts.endb !== false) all.push({ code: 'ENDB', data: Buffer.alloc(0) });
  for (const b of all) {
    const h = Buffer.alloc(16 + pointer);
    Buffer.from(b.code.padEnd(4, '\0'), 'latin1').copy(h, 0);
    if (big) h.writeInt32BE(b.data.length, 4);
    else h.writeInt32LE(b.data.length, 4);
    parts.push(h, b.data);
  }
  return Buffer.concat(parts);
}

/** A Blender 5.0 style .blend: 17-byte header and 32-byte block headers. */
function largeBlend(blocks: Block[]): Buffer {
  const parts: Buffer[] = [Buffer.from('BLENDER17-01v0500')];
  for (const b of [
    ...blocks,
    { code: 'DNA1', data: Buffer.alloc(8) },
    { code: 'ENDB', data: Buffer.alloc(0) },
  ]) {
    const h = Buffer.alloc(32);
    Buffer.from(b.code.padEnd(4, '\0'), 'latin1').copy(h, 0);
    h.writeBigInt64LE(BigInt(b.data.length), 16);
    parts.push(h, b.data);
  }
  return Buffer.concat(parts);
}

const BLOCKS: Block[] = [
  { code: 'REND', data: Buffer.alloc(72) },
  { code: 'GLOB', data: Buffer.alloc(100) },
  { code: 'SC', data: Buffer.alloc(300, 7) },
  { code: 'DATA', data: Buffer.alloc(1000, 3) },
];

function errorOf(fn: () => unknown): BlendFileError {
  try {
    fn();
  } catch (e) {
    if (e instanceof BlendFileError) return e;
    throw e;
  }
  throw new Error('expected a BlendFileError');
}

describe('validateBlendHeader', () => {
  it('accepts a minimal little-endian 64-bit .blend', () => {
    const buf = legacyBlend(BLOCKS);
    const r = validateBlendHeader(buf);
    expect(r).toEqual({
      compression: 'none',
      structurallyChecked: true,
      storedBytes: buf.length,
      uncompressedBytes: buf.length,
      header: {
        pointerSize: 8,
        endianness: 'little',
        versionCode: 304,
        version: '3.4',
        formatVersion: 0,
      },
      blockCount: 6,
      trailingBytes: 0,
    });
  });

  it('accepts 32-bit big-endian files from old Blenders', () => {
    const r = validateBlendHeader(legacyBlend(BLOCKS, { pointer: 4, big: true, version: '279' }));
    expect(r.header).toMatchObject({ pointerSize: 4, endianness: 'big', version: '2.79' });
  });

  it('accepts the Blender 5.0 header with large block headers', () => {
    const r = validateBlendHeader(largeBlend(BLOCKS));
    expect(r.header).toMatchObject({ formatVersion: 1, versionCode: 500, version: '5.0' });
    expect(r.blockCount).toBe(6);
  });

  it('reports bytes after ENDB without failing', () => {
    const r = validateBlendHeader(Buffer.concat([legacyBlend(BLOCKS), Buffer.alloc(10)]));
    expect(r.trailingBytes).toBe(10);
  });

  it('rejects an empty file', () => {
    expect(errorOf(() => validateBlendHeader(Buffer.alloc(0)))).toMatchObject({
      code: 'EMPTY',
      message: 'empty file',
    });
  });

  it.each([
    ['text', Buffer.from('hello world, this is not a blend file')],
    ['short text', Buffer.from('PK')],
    ['PNG', Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex')],
  ])('rejects a file without the BLENDER magic (%s)', (_name, buf) => {
    expect(errorOf(() => validateBlendHeader(buf))).toMatchObject({
      code: 'NOT_BLEND',
      message: 'not a .blend file (missing BLENDER header)',
    });
  });

  it('rejects a bad pointer-size / endianness byte', () => {
    const buf = legacyBlend(BLOCKS);
    buf.write('x', 8, 'latin1');
    expect(errorOf(() => validateBlendHeader(buf)).code).toBe('CORRUPT');
  });

  it('names the block that runs past the end of a truncated file', () => {
    const buf = legacyBlend(BLOCKS);
    // REND header at 12 (24 + 72 bytes), GLOB header at 108 (24 + 100), SC at 232.
    const cut = buf.subarray(0, 232 + 24 + 10);
    expect(errorOf(() => validateBlendHeader(cut))).toMatchObject({
      code: 'TRUNCATED',
      message:
        'truncated .blend: block SC at offset 232 (300 bytes) runs past the end of the file (266 bytes)',
    });
  });

  it('detects a cut inside a block header', () => {
    const e = errorOf(() => validateBlendHeader(legacyBlend(BLOCKS).subarray(0, 12 + 10)));
    expect(e.code).toBe('TRUNCATED');
    expect(e.message).toMatch(/block header at offset 12 is cut off/);
  });

  it('detects a file cut at a block boundary (no ENDB)', () => {
    const e = errorOf(() => validateBlendHeader(legacyBlend(BLOCKS, { endb: false })));
    expect(e.code).toBe('TRUNCATED');
    expect(e.message).toMatch(/no ENDB block, the file ends after block DNA1/);
  });

  it('detects a file truncated within its ENDB block', () => {
    const buf = legacyBlend(BLOCKS);
    for (const n of [1, 4, 12, 16, 23]) {
      expect(errorOf(() => validateBlendHeader(buf.subarray(0, buf.length - n))).code).toBe(
        'TRUNCATED',
      );
    }
  });

  it('detects a header-only file', () => {
    expect(errorOf(() => validateBlendHeader(Buffer.from('BLENDER-v3'))).code).toBe('TRUNCATED');
  });

  it('rejects a file without a DNA1 block', () => {
    const buf = legacyBlend(BLOCKS);
    const dna = buf.indexOf('DNA1');
    buf.write('DAT2', dna, 'latin1');
    expect(errorOf(() => validateBlendHeader(buf))).toMatchObject({ code: 'CORRUPT' });
  });

  it('rejects a negative block length', () => {
    const buf = legacyBlend(BLOCKS);
    buf.writeInt32LE(-5, 16);
    expect(errorOf(() => validateBlendHeader(buf)).message).toMatch(
      /block REND at offset 12 has a negative length/,
    );
  });

  describe('gzip-compressed', () => {
    const blend = legacyBlend(BLOCKS);

    it('checks the inflated blocks', () => {
      const gz = gzipSync(blend);
      expect(validateBlendHeader(gz)).toMatchObject({
        compression: 'gzip',
        structurallyChecked: true,
        storedBytes: gz.length,
        uncompressedBytes: blend.length,
        blockCount: 6,
      });
    });

    it('finds a truncated .blend inside a complete gzip stream', () => {
      const gz = gzipSync(blend.subarray(0, 300));
      expect(errorOf(() => validateBlendHeader(gz)).message).toMatch(/block SC at offset 232/);
    });

    it('rejects a truncated gzip stream', () => {
      const gz = gzipSync(blend);
      expect(errorOf(() => validateBlendHeader(gz.subarray(0, gz.length - 20)))).toMatchObject({
        code: 'TRUNCATED',
        message: 'truncated .blend: the gzip stream ends early',
      });
    });

    it('rejects gzip of something else', () => {
      expect(errorOf(() => validateBlendHeader(gzipSync('plain text'))).code).toBe('NOT_BLEND');
    });

    it('refuses to inflate beyond the limit', () => {
      const bomb = gzipSync(Buffer.alloc(1024 * 1024));
      expect(
        errorOf(() => validateBlendHeader(bomb, { maxUncompressedBytes: 64 * 1024 })).code,
      ).toBe('TOO_LARGE');
    });
  });

  describe('zstd-compressed', () => {
    // A frame with one raw (stored) block: descriptor 0x20 = single segment, 1-byte content size.
    function zstdFrame(content: Buffer): Buffer {
      const head = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x20, content.length]);
      const v = 1 | (0 << 1) | (content.length << 3); // last block, raw
      const block = Buffer.from([v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff]);
      return Buffer.concat([head, block, content]);
    }
    function seekTable(frames: Buffer[], contentSizes: number[], count = frames.length): Buffer {
      const entries = frames.map((f, i) => {
        const e = Buffer.alloc(8);
        e.writeUInt32LE(f.length, 0);
        e.writeUInt32LE(contentSizes[i], 4);
        return e;
      });
      const footer = Buffer.alloc(9);
      footer.writeUInt32LE(count, 0);
      footer.writeUInt8(0, 4);
      footer.writeUInt32LE(0x8f92eab1, 5);
      const body = Buffer.concat([...entries, footer]);
      const head = Buffer.alloc(8);
      head.writeUInt32LE(0x184d2a5e, 0);
      head.writeUInt32LE(body.length, 4);
      return Buffer.concat([head, body]);
    }
    const frames = [zstdFrame(Buffer.from('BLENDER-v304')), zstdFrame(Buffer.alloc(100, 1))];
    const file = Buffer.concat([...frames, seekTable(frames, [12, 100])]);

    it('accepts a well-formed seekable stream without claiming a block check', () => {
      expect(validateBlendHeader(file)).toEqual({
        compression: 'zstd',
        structurallyChecked: false,
        storedBytes: file.length,
        uncompressedBytes: 112,
        header: null,
        blockCount: null,
        trailingBytes: 0,
      });
    });

    it('detects truncation anywhere in the frames', () => {
      for (const cut of [5, 8, frames[0].length + 3, file.length - 30, file.length - 1]) {
        expect(errorOf(() => validateBlendHeader(file.subarray(0, cut))).code).toBe('TRUNCATED');
      }
    });

    it('detects frames missing before the seek table', () => {
      const e = errorOf(() =>
        validateBlendHeader(Buffer.concat([frames[0], seekTable(frames, [12, 100])])),
      );
      expect(e.message).toMatch(/seek table lists 2 frames/);
    });

    it('rejects garbage after a frame', () => {
      const e = errorOf(() => validateBlendHeader(Buffer.concat([frames[0], Buffer.from('junk')])));
      expect(e).toMatchObject({ code: 'CORRUPT' });
    });
  });
});

describe('validateBlendFile (streaming)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'blend-header-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function file(name: string, data: Buffer): Promise<string> {
    const p = join(dir, name);
    await writeFile(p, data);
    return p;
  }

  it('agrees with the in-memory check', async () => {
    const big = legacyBlend([...BLOCKS, { code: 'DATA', data: Buffer.alloc(3 * 1024 * 1024, 9) }]);
    for (const [name, data] of [
      ['plain.blend', big],
      ['gz.blend', gzipSync(big)],
    ] as const) {
      expect(await validateBlendFile(await file(name, data))).toEqual(validateBlendHeader(data));
    }
  });

  it('reports the same errors', async () => {
    const cut = legacyBlend(BLOCKS).subarray(0, 266);
    await expect(validateBlendFile(await file('cut.blend', cut))).rejects.toThrow(
      'truncated .blend: block SC at offset 232 (300 bytes) runs past the end of the file (266 bytes)',
    );
    await expect(validateBlendFile(await file('empty.blend', Buffer.alloc(0)))).rejects.toThrow(
      'empty file',
    );
    await expect(validateBlendFile(await file('x.txt', Buffer.from('nope')))).rejects.toThrow(
      'not a .blend file (missing BLENDER header)',
    );
    const gz = gzipSync(legacyBlend(BLOCKS));
    await expect(validateBlendFile(await file('cut.gz', gz.subarray(0, 30)))).rejects.toMatchObject(
      {
        code: 'TRUNCATED',
      },
    );
  });

  it('reports a missing file as unreadable', async () => {
    await expect(validateBlendFile(join(dir, 'missing.blend'))).rejects.toMatchObject({
      code: 'UNREADABLE',
    });
  });
});
