import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** A download that may start part-way: `offset` is where the bytes of `stream` begin. */
export interface SceneDownload {
  stream: Readable;
  offset: number;
  /** the whole scene's size, when known */
  total?: number;
}

/** Asked to send the scene from byte `offset` (a Range request); may send it all (offset 0). */
export type FetchScene = (offset: number) => Promise<SceneDownload>;

export interface SceneCacheOptions {
  /** keep at most this many bytes of scenes; the least recently used go first */
  maxBytes: number;
  onProgress?: (sha256: string, bytes: number, total?: number) => void;
}

/**
 * Scenes on disk by content hash, verified, shared by every tile and job that uses them. A broken
 * download keeps its partial file and resumes from there (HTTP Range); the cache stays under its
 * size cap by evicting the least recently used scenes that no worker has open.
 */
export class SceneCache {
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(
    private readonly dir: string,
    private readonly opts: SceneCacheOptions,
  ) {}

  pathOf(sha256: string): string {
    return join(this.dir, `${sha256}.blend`);
  }

  /** The scene's path, downloading it first when needed. `inUse` scenes are never evicted. */
  get(sha256: string, fetchScene: FetchScene, inUse: Iterable<string> = []): Promise<string> {
    if (!/^[0-9a-f]{64}$/.test(sha256))
      return Promise.reject(new Error(`bad scene hash ${sha256}`));
    const pending = this.inflight.get(sha256);
    if (pending) return pending;
    const p = this.fetchOnce(sha256, fetchScene, new Set([...inUse, sha256])).finally(() =>
      this.inflight.delete(sha256),
    );
    this.inflight.set(sha256, p);
    return p;
  }

  private async fetchOnce(sha256: string, fetchScene: FetchScene, keep: Set<string>) {
    const path = this.pathOf(sha256);
    if (await exists(path)) {
      const now = new Date();
      await utimes(path, now, now).catch(() => undefined); // recency for LRU
      return path;
    }
    await mkdir(this.dir, { recursive: true });
    const partial = `${path}.partial`;
    const have = (await stat(partial).catch(() => null))?.size ?? 0;
    const download = await fetchScene(have);
    const hash = createHash('sha256');
    let written = download.offset;
    if (download.offset > 0) {
      for await (const chunk of createReadStream(partial, { end: download.offset - 1 })) {
        hash.update(chunk as Buffer);
      }
    }
    download.stream.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      written += chunk.length;
      this.opts.onProgress?.(sha256, written, download.total);
    });
    // Appends after a resumed range; starts over when the server sent the whole file.
    await pipeline(
      download.stream,
      createWriteStream(
        partial,
        download.offset > 0 ? { flags: 'r+', start: download.offset } : {},
      ),
    );
    const actual = hash.digest('hex');
    if (actual !== sha256) {
      await rm(partial, { force: true });
      throw new Error(`scene download hash ${actual} does not match ${sha256}`);
    }
    await rename(partial, path);
    await this.evict(keep);
    return path;
  }

  /** Removes least recently used scenes until the cache fits its cap. */
  async evict(keep: Set<string> = new Set()): Promise<string[]> {
    const entries = await readdir(this.dir).catch(() => [] as string[]);
    const scenes = [];
    for (const name of entries) {
      const m = /^([0-9a-f]{64})\.blend$/.exec(name);
      if (!m) continue;
      const s = await stat(join(this.dir, name)).catch(() => null);
      if (s) scenes.push({ sha256: m[1], size: s.size, used: s.mtimeMs });
    }
    let total = scenes.reduce((a, s) => a + s.size, 0);
    const evicted: string[] = [];
    for (const s of scenes.sort((a, b) => a.used - b.used)) {
      if (total <= this.opts.maxBytes) break;
      if (keep.has(s.sha256)) continue;
      await rm(this.pathOf(s.sha256), { force: true });
      total -= s.size;
      evicted.push(s.sha256);
    }
    return evicted;
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
