import type { JobGrid, TileRow, TileState } from './api.js';
import type { FarmEvent } from '../../src/events/farm-event';
import { h } from './dom.js';

export interface Cell {
  shardId: string;
  frame: number;
  x: number;
  y: number;
  state: TileState;
  nodeId: string | null;
  attempts: number;
  /** an earlier result of this tile was thrown away */
  rejected: boolean;
  el: HTMLDivElement;
}

/**
 * The frame x tile grid: one small element per tile, addressed by shard id, so a live update
 * touches only the cells it names (a 300 x 16 job is 4,800 cells; an update of 100 tiles is 100
 * class changes in one animation frame).
 */
export class TileGrid {
  readonly root = h('div', { class: 'grid', id: 'grid' });
  private readonly cells = new Map<string, Cell>();
  private readonly byFrame = new Map<number, Cell[]>();
  private readonly thumbs = new Map<number, HTMLDivElement>();
  private readonly rows = new Map<number, HTMLDivElement>();
  selected?: Cell;

  constructor(
    private readonly thumbUrl: (frame: number) => string,
    private readonly onFrameClick: (frame: number) => void,
    private readonly onCellClick: (cell: Cell) => void,
  ) {
    const tip = h('div', { id: 'tooltip' });
    document.body.append(tip);
    this.root.addEventListener('mouseover', (e) => {
      const cell = this.cellOf(e.target);
      if (!cell) return void (tip.style.display = 'none');
      tip.textContent = `frame ${cell.frame} tile ${cell.x},${cell.y}: ${cell.state}${
        cell.rejected ? ' (was rejected)' : ''
      }${cell.nodeId ? ` · node ${cell.nodeId.slice(0, 8)}` : ''} · attempts ${cell.attempts}`;
      tip.style.display = 'block';
    });
    this.root.addEventListener('mousemove', (e) => {
      tip.style.left = `${e.clientX + 12}px`;
      tip.style.top = `${e.clientY + 12}px`;
    });
    this.root.addEventListener('mouseleave', () => (tip.style.display = 'none'));
    this.root.addEventListener('click', (e) => {
      const cell = this.cellOf(e.target);
      if (cell) {
        this.selected?.el.classList.remove('sel');
        this.selected = cell;
        cell.el.classList.add('sel');
        this.onCellClick(cell);
        return;
      }
      const img = (e.target as HTMLElement).closest('img[data-frame]');
      if (img) this.onFrameClick(Number(img.getAttribute('data-frame')));
    });
  }

  /** Builds every row from a snapshot (first load and resyncs). */
  load(job: JobGrid): void {
    this.cells.clear();
    this.byFrame.clear();
    this.thumbs.clear();
    this.rows.clear();
    const rows: HTMLElement[] = [];
    for (const f of job.frames) {
      const tiles = h('div', { class: 'tiles' });
      tiles.style.gridTemplateColumns = `repeat(${job.tilesX}, 12px)`;
      for (const t of [...f.tiles].sort((a, b) => a[2] - b[2] || a[1] - b[1])) {
        tiles.append(this.makeCell(f.number, t).el);
      }
      const thumb = h('div', { class: 'thumb' });
      this.thumbs.set(f.number, thumb);
      if (f.status === 'DONE') this.showThumb(f.number);
      const row = h(
        'div',
        { class: 'frow', 'data-frame': f.number },
        h('span', { class: 'fn' }, `#${f.number}`),
        tiles,
        thumb,
      );
      this.rows.set(f.number, row);
      rows.push(row);
    }
    this.root.replaceChildren(...rows);
  }

  /** Applies live events; returns whether a snapshot is needed (changes too broad to patch). */
  apply(events: FarmEvent[]): { resync: boolean } {
    let resync = false;
    for (const e of events) {
      switch (e.type) {
        case 'lease.granted':
          this.set(e.shardId, (c) => {
            c.nodeId = e.nodeId;
            c.attempts++;
            return c.rejected ? 'rerendering' : 'leased';
          });
          break;
        case 'lease.completed':
          this.set(e.shardId, () => 'rendered');
          break;
        case 'lease.ended':
          this.set(e.shardId, (c) => (c.rejected ? 'rejected' : 'queued'));
          break;
        case 'tiles.verified':
          for (const id of e.shardIds) this.set(id, () => 'verified');
          break;
        case 'frame.assembled':
          this.showThumb(e.frame);
          break;
        case 'job.changed':
        case 'job.planned':
          resync = true;
          break;
      }
    }
    return { resync };
  }

  count(state: TileState): number {
    let n = 0;
    for (const c of this.cells.values()) if (c.state === state) n++;
    return n;
  }

  get size(): number {
    return this.cells.size;
  }

  has(shardId: string): boolean {
    return this.cells.has(shardId);
  }

  /** A frame's tiles and how many of them are verified. */
  frameTiles(frame: number): { verified: number; tiles: number } {
    const cells = this.byFrame.get(frame) ?? [];
    return { verified: cells.filter((c) => c.state === 'verified').length, tiles: cells.length };
  }

  private set(shardId: string, next: (c: Cell) => TileState): void {
    // Checks (crop re-renders, ringers, arbitration) have shard ids of their own: not grid cells.
    const cell = this.cells.get(shardId);
    if (!cell) return;
    cell.state = next(cell);
    cell.el.className = this.classOf(cell);
  }

  private showThumb(frame: number): void {
    const slot = this.thumbs.get(frame);
    if (!slot || slot.firstChild) return;
    slot.append(
      h('img', {
        src: this.thumbUrl(frame),
        alt: `frame ${frame}`,
        'data-frame': frame,
        loading: 'lazy',
      }),
    );
  }

  private makeCell(frame: number, t: TileRow): Cell {
    const [shardId, x, y, state, nodeId, attempts, rejected] = t;
    const el = h('div', { 'data-shard': shardId, 'data-f': frame, 'data-x': x, 'data-y': y });
    const cell: Cell = {
      shardId,
      frame,
      x,
      y,
      state,
      nodeId,
      attempts,
      rejected: rejected === 1,
      el,
    };
    el.className = this.classOf(cell);
    this.cells.set(shardId, cell);
    const inFrame = this.byFrame.get(frame);
    if (inFrame) inFrame.push(cell);
    else this.byFrame.set(frame, [cell]);
    return cell;
  }

  private classOf(c: Cell): string {
    const base = `c s-${c.state}${c.rejected ? ' was-rejected' : ''}`;
    return this.selected === c ? `${base} sel` : base;
  }

  private cellOf(target: EventTarget | null): Cell | undefined {
    const id = (target as HTMLElement | null)?.getAttribute?.('data-shard');
    return id ? this.cells.get(id) : undefined;
  }
}
