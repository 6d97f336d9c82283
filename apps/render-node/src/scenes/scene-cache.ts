import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Scenes on disk by content hash: downloaded once, verified, shared by every tile of a job. */
export class SceneCache {
  constructor(private readonly dir: string) {}

  async get(sha256: string, fetchScene: () => Promise<Readable>): Promise<string> {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`bad scene hash ${sha256}`);
    const path = join(this.dir, `${sha256}.blend`);
    if (await exists(path)) return path;
    await mkdir(this.dir, { recursive: true });
    const partial = `${path}.${process.pid}.partial`;
    const hash = createHash('sha256');
    try {
      const source = await fetchScene();
      source.on('data', (chunk: Buffer) => hash.update(chunk));
      await pipeline(source, createWriteStream(partial));
      const actual = hash.digest('hex');
      if (actual !== sha256)
        throw new Error(`scene download hash ${actual} does not match ${sha256}`);
      await rename(partial, path);
      return path;
    } finally {
      await rm(partial, { force: true });
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
