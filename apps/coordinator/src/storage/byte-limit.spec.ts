import { Readable } from 'node:stream';
import { BlobTooLargeError, ByteLimit } from './byte-limit';

async function drain(limit: ByteLimit, chunks: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const chunk of Readable.from(chunks).pipe(limit)) out.push(chunk as Buffer);
  return Buffer.concat(out);
}

describe('ByteLimit', () => {
  const chunks = [Buffer.from('abc'), Buffer.from('defg'), Buffer.from('h')];

  it('passes bytes through and keeps them when asked to', async () => {
    const limit = new ByteLimit(100, 100);
    expect((await drain(limit, chunks)).toString()).toBe('abcdefgh');
    expect(limit.bytes).toBe(8);
    expect(limit.kept()?.toString()).toBe('abcdefgh');
  });

  it('keeps nothing past keepUpTo, and nothing unless asked', async () => {
    const over = new ByteLimit(100, 7);
    expect((await drain(over, chunks)).toString()).toBe('abcdefgh');
    expect(over.kept()).toBeNull();
    const plain = new ByteLimit(100);
    await drain(plain, chunks);
    expect(plain.kept()).toBeNull();
  });

  it('fails as soon as more than maxBytes went by', async () => {
    await expect(drain(new ByteLimit(7, 100), chunks)).rejects.toThrow(BlobTooLargeError);
  });
});
