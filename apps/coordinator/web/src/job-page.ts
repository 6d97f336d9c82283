import type { FarmEvent, FarmEventEnvelope } from '../../src/events/farm-event';
import { api, JobGrid, TileDetail, Timeline } from './api.js';
import { duration, h, short, time } from './dom.js';
import { Cell, TileGrid } from './grid.js';
import { LiveFeed } from './live.js';
import { TimelineView } from './timeline.js';

const STATES = ['queued', 'leased', 'rendered', 'verified', 'rejected', 'rerendering'] as const;

/** The job page: live frame x tile grid, thumbnails, tile details and a timeline. */
export function jobPage(root: HTMLElement, jobId: string): void {
  const base = `/api/v1/dashboard/jobs/${jobId}`;
  const head = h('div', { class: 'job-head' });
  const detail = h(
    'div',
    { class: 'panel', id: 'tile-detail' },
    h('p', { class: 'muted' }, 'Click a tile for its leases, renders and verdicts.'),
  );
  const timeline = new TimelineView();
  const grid = new TileGrid(
    (f) => `${base}/frames/${f}/thumbnail`,
    (f) => openFrame(base, f),
    (cell) => void showTile(base, cell, detail),
  );
  const legend = h(
    'div',
    { class: 'legend' },
    ...STATES.map((s) => h('span', {}, h('i', { class: `c s-${s}` }), s)),
  );
  root.replaceChildren(
    head,
    legend,
    h(
      'div',
      { class: 'layout' },
      grid.root,
      h('div', {}, detail, h('div', { class: 'panel' }, h('h3', {}, 'Timeline'), timeline.root)),
    ),
  );

  let job: JobGrid | undefined;

  const renderHead = () => {
    if (!job) return;
    const verified = grid.count('verified');
    const open = job.status === 'PLANNING' || job.status === 'RENDERING';
    const cancel = open ? h('button', { id: 'cancel' }, 'Cancel job') : null;
    cancel?.addEventListener('click', () => {
      if (!confirm('Cancel this job? Its leases end now.')) return;
      void api(`/api/v1/jobs/${jobId}/cancel`, { method: 'POST' }).then(
        () => feed.resync(),
        alertError,
      );
    });
    head.replaceChildren(
      ...[
        h('h2', {}, `Job ${short(job.id)}`),
        h('span', { class: `status ${job.status}`, id: 'job-status' }, job.status),
        h('span', { id: 'progress' }, `${verified} / ${grid.size} tiles verified`),
        h('span', { class: 'muted' }, `by ${job.owner} · verification ${job.verification}`),
        h(
          'a',
          { href: `${base}/frames.zip`, id: 'download-all', download: `${job.id}-frames.zip` },
          'Download all frames (zip)',
        ),
        cancel,
        job.error ? h('span', { class: 'error' }, job.error) : null,
      ].filter((n): n is HTMLElement => n !== null),
    );
  };

  // The server's timeline holds every kind of entry the live events add: a resync loses nothing.
  const snapshot = async () => {
    const [g, t] = await Promise.all([api<JobGrid>(base), api<Timeline>(`${base}/timeline`)]);
    job = g;
    grid.load(g);
    timeline.load(t.entries, t.asOf);
    renderHead();
  };

  const apply = (batch: FarmEventEnvelope[]) => {
    const events: FarmEvent[] = batch.map((b) => b.event);
    const { resync } = grid.apply(events);
    let added = false;
    for (const envelope of batch) {
      const e = envelope.event;
      if (e.type === 'job.finished' && job) job.status = e.status;
      added = timeline.add(envelope, grid) || added;
    }
    if (added) timeline.scroll();
    renderHead();
    if (resync) void feed.resync();
  };

  const feed = new LiveFeed(`/api/v1/events?job=${jobId}`, { snapshot, apply });
  feed.start();
  // For the browser test and for debugging: the grid, a way to apply events directly, a resync.
  (window as unknown as { tessera: object }).tessera = {
    grid,
    apply,
    resync: () => feed.resync(),
  };
}

async function showTile(base: string, cell: Cell, panel: HTMLElement) {
  panel.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
  try {
    const t = await api<TileDetail>(`${base}/tiles/${cell.frame}/${cell.x}/${cell.y}`);
    panel.replaceChildren(
      h('h3', {}, `Frame ${t.frame}, tile ${t.x},${t.y}`),
      h(
        'p',
        {},
        h('span', { class: 'status', id: 'tile-state' }, t.state),
        ` ${t.region.width}x${t.region.height} at ${t.region.x},${t.region.y} · attempts ${t.attempts}`,
      ),
      h('h3', {}, 'Leases'),
      h(
        'table',
        {},
        ...t.leases.map((l) =>
          h(
            'tr',
            {},
            h('td', {}, l.node.name ?? short(l.node.address)),
            h('td', {}, l.status.toLowerCase()),
            h('td', {}, time(l.grantedAt)),
            h(
              'td',
              {},
              l.endedAt
                ? duration(new Date(l.endedAt).getTime() - new Date(l.grantedAt).getTime())
                : '…',
            ),
            h('td', { class: 'muted' }, l.reason ?? ''),
          ),
        ),
      ),
      h('h3', {}, 'Renders'),
      h(
        'table',
        {},
        ...t.results.map((r) =>
          h(
            'tr',
            { class: r.accepted ? '' : 'error' },
            h('td', {}, short(r.id)),
            h('td', {}, `node ${short(r.nodeId)}`),
            h('td', {}, duration(r.renderMs)),
            h('td', { class: 'result-verdict' }, r.accepted ? 'accepted' : 'rejected'),
          ),
        ),
      ),
      h('h3', {}, 'Verdicts'),
      ...(t.verdicts.length
        ? t.verdicts.map((v) =>
            h(
              'div',
              { class: `verdict ${v.outcome}` },
              h('b', {}, `${v.kind} ${v.outcome}`),
              ` frame ${v.frame} · nodes ${v.nodes.map(short).join(' vs ')}`,
              h('br'),
              h('code', {}, verdictSummary(v.evidence)),
            ),
          )
        : [h('p', { class: 'muted' }, 'No verdicts about this tile.')]),
    );
  } catch (e) {
    panel.replaceChildren(h('p', { class: 'error' }, (e as Error).message));
  }
}

function verdictSummary(e: Record<string, unknown>): string {
  const parts: string[] = [];
  if (typeof e.mode === 'string') parts.push(`mode ${e.mode}`);
  if (typeof e.reason === 'string') parts.push(e.reason);
  if (e.arbiterNode) parts.push(`arbiter ${short(String(e.arbiterNode))}`);
  if (e.metrics) parts.push(JSON.stringify(e.metrics).slice(0, 160));
  return parts.join(' · ') || JSON.stringify(e).slice(0, 160);
}

function openFrame(base: string, frame: number) {
  const url = `${base}/frames/${frame}`;
  const close = h('button', {}, 'Close');
  const overlay = h(
    'div',
    { class: 'overlay', id: 'frame-view' },
    h('img', { src: url, alt: `frame ${frame} full size`, id: 'frame-full' }),
    h(
      'div',
      {},
      h(
        'a',
        {
          href: url,
          download: `frame-${String(frame).padStart(4, '0')}.png`,
          id: 'download-frame',
        },
        `Download frame ${frame}`,
      ),
      ' ',
      close,
    ),
  );
  const dismiss = () => overlay.remove();
  close.addEventListener('click', dismiss);
  overlay.addEventListener('click', (e) => e.target === overlay && dismiss());
  document.body.append(overlay);
}

function alertError(e: Error) {
  alert(e.message);
}
