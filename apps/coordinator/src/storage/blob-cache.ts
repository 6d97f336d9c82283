/** Blobs' bytes (with whatever goes with them) by key, in memory up to a number of bytes. */
export class BlobCache<T extends { bytes: Buffer }> {
  private readonly entries = new Map<string, T>();
  private held = 0;

  /** `limit`: bytes kept at most; the least recently used go first beyond it (0: none kept). */
  constructor(private readonly limit: number) {}

  set(key: string, entry: T): void {
    this.delete(key);
    if (entry.bytes.length > this.limit) return;
    this.entries.set(key, entry);
    this.held += entry.bytes.length;
    for (const [oldest] of this.entries) {
      if (this.held <= this.limit) break;
      this.delete(oldest);
    }
  }

  /** The entry, now the most recently used. */
  get(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    // Map keeps insertion order: most recently used goes last.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry;
  }

  /** The entry, removed. */
  take(key: string): T | undefined {
    const entry = this.entries.get(key);
    this.delete(key);
    return entry;
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.held -= entry.bytes.length;
  }
}
