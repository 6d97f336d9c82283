import type { FarmEventEnvelope } from '../../src/events/farm-event';

const RETRY_MS = 3000;

export interface LiveHandlers {
  /** (Re)load the snapshot: on first connect, and whenever events may have been missed. */
  snapshot(): Promise<void>;
  /** A batch of events, applied once per animation frame however fast they arrive. */
  apply(events: FarmEventEnvelope[]): void;
}

/**
 * One EventSource with the order that loses nothing: connect, then read the snapshot, then apply
 * the events that came meanwhile. The browser reconnects by itself with Last-Event-ID; the server
 * answers `resync` when it cannot replay, and the snapshot is read again.
 */
export class LiveFeed {
  private source?: EventSource;
  private queue: FarmEventEnvelope[] = [];
  private loading = false;
  private scheduled = false;

  constructor(
    private readonly url: string,
    private readonly handlers: LiveHandlers,
  ) {}

  start(): void {
    const indicator = document.getElementById('live');
    const source = new EventSource(this.url);
    this.source = source;
    source.addEventListener('ready', () => void this.resync());
    source.addEventListener('resync', () => void this.resync());
    source.addEventListener('open', () => {
      indicator?.classList.add('on');
      if (indicator) indicator.textContent = 'live';
    });
    source.addEventListener('error', () => {
      indicator?.classList.remove('on');
      if (indicator) indicator.textContent = 'reconnecting…';
      // The browser retries by itself, except after an HTTP error (a replica starting, a proxy):
      // then a fresh stream, which starts with `ready` and so with a snapshot.
      if (source.readyState === EventSource.CLOSED) setTimeout(() => this.start(), RETRY_MS);
    });
    source.addEventListener('message', (m: MessageEvent<string>) => {
      this.queue.push(JSON.parse(m.data) as FarmEventEnvelope);
      this.schedule();
    });
  }

  stop(): void {
    this.source?.close();
  }

  async resync(): Promise<void> {
    this.loading = true;
    try {
      await this.handlers.snapshot();
    } catch {
      // The replica went away in the middle of the read (a restart): read again shortly, or the
      // page would show the events since on top of a state it never got.
      setTimeout(() => void this.resync(), RETRY_MS);
    } finally {
      this.loading = false;
      this.schedule();
    }
  }

  private schedule(): void {
    if (this.scheduled || this.loading || this.queue.length === 0) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      if (this.loading) return;
      const batch = this.queue;
      this.queue = [];
      this.handlers.apply(batch);
    });
  }
}

/** Runs `fn` at most once per `ms`, trailing: bursts of events cause one reload, not many. */
export function throttle(fn: () => void, ms: number): () => void {
  let timer: number | undefined;
  let last = 0;
  return () => {
    if (timer !== undefined) return;
    const wait = Math.max(0, last + ms - Date.now());
    timer = window.setTimeout(() => {
      timer = undefined;
      last = Date.now();
      fn();
    }, wait);
  };
}
