import type { FarmEventEnvelope } from '../../src/events/farm-event';
import type { TimelineEntry } from './api.js';
import { h, time } from './dom.js';
import type { TileGrid } from './grid.js';

/**
 * The job page's timeline. A resync rebuilds it from the server's list, which holds every kind of
 * entry the live events add; between resyncs live events append. Entries carry the server's keys
 * (apps/coordinator/src/dashboard/job-timeline.ts, whose wording is mirrored here), so an event
 * that the last read already holds is not shown twice.
 */
export class TimelineView {
  readonly root = h('div', { class: 'timeline', id: 'timeline' });
  private readonly byKey = new Map<string, HTMLElement>();
  /** the server's clock when the last read began: older events may be in it already */
  private asOf = 0;

  load(entries: TimelineEntry[], asOf: string): void {
    this.byKey.clear();
    this.asOf = new Date(asOf).getTime();
    this.root.replaceChildren(...entries.map((e) => this.element(e)));
    this.scroll();
  }

  /**
   * Adds what a live event tells, if anything. Call it after the grid has applied the event: a
   * frame's `verified` line counts the grid's verified tiles. Returns whether an entry was added.
   */
  add({ at, event: e }: FarmEventEnvelope, grid: Pick<TileGrid, 'has' | 'frameTiles'>): boolean {
    switch (e.type) {
      case 'lease.granted':
        // one line per frame, at its first lease of a work tile (checks are not grid tiles)
        return grid.has(e.shardId)
          ? this.once({
              at,
              kind: 'leased',
              key: `leased:${e.frame}`,
              text: 'first tile leased',
              frame: e.frame,
            })
          : false;
      case 'tiles.verified': {
        // one line per frame too, moved to the end with the count of verified tiles now
        const { verified, tiles } = grid.frameTiles(e.frame);
        const key = `verified:${e.frame}`;
        this.byKey.get(key)?.remove();
        this.byKey.delete(key);
        return this.once({
          at,
          kind: 'verified',
          key,
          text: `${verified}/${tiles} tiles verified`,
          frame: e.frame,
        });
      }
      case 'verdict':
        if (e.outcome === 'PASS' && e.kind !== 'ARBITRATION' && e.kind !== 'FRAUD') return false;
        return this.unlessRead({
          at,
          kind:
            e.kind === 'FRAUD'
              ? 'convicted'
              : e.kind === 'ARBITRATION'
                ? 'arbitration'
                : 'mismatch',
          key: `verdict:${e.kind}:${e.frame}:${e.results.join(',')}`,
          text: `${e.kind.toLowerCase()} ${e.outcome.toLowerCase()}`,
          frame: e.frame,
        });
      case 'frame.assembled':
        return this.once({
          at,
          kind: 'assembled',
          key: `assembled:${e.frame}`,
          text: 'frame assembled',
          frame: e.frame,
        });
      case 'payout':
        return this.unlessRead({
          at,
          kind: 'paid',
          key: `paid:${e.kind}:${e.nodeId ?? '-'}:${e.amountWei}`,
          text: payoutText(e.kind, e.nodeId ?? null, e.amountWei),
          txHash: e.txHash,
        });
      case 'job.finished':
        return this.once({
          at,
          kind: 'finished',
          key: 'finished',
          text: `job ${e.status.toLowerCase()}`,
        });
      default:
        return false;
    }
  }

  /** After a batch: keep the newest entry in view (once, not once per entry: it forces a layout). */
  scroll(): void {
    this.root.scrollTop = this.root.scrollHeight;
  }

  /** Milestones that happen once (per frame): shown unless already shown. */
  private once(e: TimelineEntry): boolean {
    if (this.byKey.has(e.key)) return false;
    this.root.append(this.element(e));
    return true;
  }

  /** Verdicts and payouts: an event older than the last read may be in it already. */
  private unlessRead(e: TimelineEntry): boolean {
    if (this.byKey.has(e.key) && new Date(e.at).getTime() <= this.asOf) return false;
    this.root.append(this.element(e));
    return true;
  }

  private element(e: TimelineEntry): HTMLElement {
    const el = h(
      'div',
      { class: `k-${e.kind}`, 'data-key': e.key, title: new Date(e.at).toLocaleString() },
      h('time', { datetime: e.at }, time(e.at)),
      ' ',
      h('b', {}, e.kind),
      ` ${e.frame !== undefined ? `frame ${e.frame}: ` : ''}${e.text}`,
      e.txHash ? h('code', {}, ` tx ${e.txHash}`) : null,
    );
    this.byKey.set(e.key, el);
    return el;
  }
}

function payoutText(kind: string, nodeId: string | null, amountWei: string): string {
  const node = nodeId ? nodeId.slice(0, 8) : '–';
  if (kind === 'refunded') return `refunded ${amountWei} wei to the requester`;
  if (kind === 'slashed') return `slashed ${amountWei} wei from node ${node}`;
  return `settled ${amountWei} wei to node ${node}`;
}
