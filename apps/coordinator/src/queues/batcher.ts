export interface BatcherOptions {
  /** how long the first item of a batch waits for company */
  maxWaitMs: number;
  /** a batch this large is sent at once */
  maxItems: number;
}

/**
 * Groups items that arrive close together into one call of `send`, the way a database groups
 * commits: every add() resolves once the batch holding its item was sent, and rejects with that
 * batch's error. Under load one Redis round trip then carries many items instead of one each
 * (each round trip costs the coordinator a socket write and a read); an item waits at most
 * `maxWaitMs`.
 */
export class Batcher<T> {
  private pending: { item: T; done: () => void; failed: (e: unknown) => void }[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly send: (items: T[]) => Promise<unknown>,
    private readonly options: BatcherOptions,
  ) {}

  add(item: T): Promise<void> {
    return new Promise<void>((done, failed) => {
      this.pending.push({ item, done, failed });
      if (this.pending.length >= this.options.maxItems) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.options.maxWaitMs);
    });
  }

  /** Sends what is waiting now (at shutdown, or when a batch is full). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    this.send(batch.map((b) => b.item)).then(
      () => batch.forEach((b) => b.done()),
      (e: unknown) => batch.forEach((b) => b.failed(e)),
    );
  }
}
