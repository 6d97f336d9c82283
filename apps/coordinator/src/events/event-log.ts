import type { FarmEventEnvelope } from './farm-event';

/**
 * The recent events a replica has seen, in arrival order, so that a browser reconnecting with
 * Last-Event-ID is sent what it missed. When the id has already left the window the caller must
 * fall back to a snapshot (`since` returns null).
 */
export class EventLog {
  private readonly items: FarmEventEnvelope[] = [];

  constructor(private readonly capacity: number) {}

  push(e: FarmEventEnvelope): void {
    this.items.push(e);
    if (this.items.length > this.capacity) this.items.splice(0, this.items.length - this.capacity);
  }

  /** Events after `id`; null when `id` is unknown (too old, or from before this replica started). */
  since(id: string): FarmEventEnvelope[] | null {
    for (let i = this.items.length - 1; i >= 0; i--) {
      if (this.items[i].id === id) return this.items.slice(i + 1);
    }
    return null;
  }
}
