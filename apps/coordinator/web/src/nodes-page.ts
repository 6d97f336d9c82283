import { api, HttpError, NodeView } from './api.js';
import { duration, h, short, time, wei } from './dom.js';
import { LiveFeed, throttle } from './live.js';

/**
 * A node that stops polling sends no event: it turns offline on the server a minute after its
 * last poll (and its throughput window moves on), so the page reads the list again this often.
 * One small read per open page every 20 s, however many nodes.
 */
const REFRESH_MS = 20_000;

/** The farm's nodes (admin keys): status, capabilities, current work, throughput, reputation. */
export function nodesPage(root: HTMLElement): void {
  const body = h('tbody');
  const message = h('p', { class: 'muted' });
  root.replaceChildren(
    h('h2', {}, 'Nodes'),
    h(
      'table',
      { id: 'nodes' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...[
            'node',
            'status',
            'capabilities',
            'current shard',
            'throughput (10 min)',
            'tiles',
            'reputation',
            'blocklisted on',
            'earnings',
          ].map((c) => h('th', {}, c)),
        ),
      ),
      body,
    ),
    message,
  );
  const load = async () => {
    try {
      const nodes = await api<NodeView[]>('/api/v1/dashboard/nodes');
      message.textContent = nodes.length ? '' : 'No node has joined yet.';
      body.replaceChildren(...nodes.map(row));
    } catch (e) {
      if (e instanceof HttpError && e.status === 403) {
        message.textContent =
          'The farm view needs an admin API key (npm run apikey -- create <name> --admin).';
        return;
      }
      throw e;
    }
  };
  const reload = throttle(() => void load(), 2000);
  new LiveFeed('/api/v1/events', { snapshot: load, apply: reload }).start();
  window.setInterval(() => document.hidden || reload(), REFRESH_MS);
}

function row(n: NodeView): HTMLElement {
  const caps = n.capabilities ?? {};
  return h(
    'tr',
    { 'data-node': n.id },
    h('td', {}, n.name ?? short(n.id), h('div', {}, h('code', {}, n.address))),
    h(
      'td',
      {},
      h(
        'span',
        { class: `status ${n.online ? 'COMPLETED' : 'FAILED'}` },
        n.online ? 'online' : 'offline',
      ),
      h('div', { class: 'muted' }, `seen ${time(n.lastSeenAt)}`),
    ),
    h('td', { title: JSON.stringify(caps, null, 1) }, h('code', {}, capabilitySummary(caps))),
    h(
      'td',
      {},
      ...n.current.map((c) =>
        h(
          'div',
          {},
          h('a', { href: `/dashboard/jobs/${c.jobId}` }, short(c.jobId)),
          ` frame ${c.frameNumber} tile ${c.tileX},${c.tileY}${c.kind === 'CHECK' ? ' (check)' : ''}`,
        ),
      ),
    ),
    h('td', {}, `${n.throughput.tiles} tiles, ${duration(n.throughput.renderMs)} rendering`),
    h('td', {}, n.tilesTotal),
    h(
      'td',
      {},
      `${Math.round(n.reputation.score * 100)}%`,
      n.reputation.failedChecks
        ? h('div', { class: 'error' }, `${n.reputation.failedChecks} failed checks`)
        : null,
    ),
    h(
      'td',
      {},
      ...n.blocklists.map((b) =>
        h(
          'div',
          { class: 'error' },
          h('a', { href: `/dashboard/jobs/${b.jobId}` }, short(b.jobId)),
          ` ${b.reason}`,
        ),
      ),
    ),
    h('td', { title: n.earnings && `${n.earnings} wei` }, wei(n.earnings)),
  );
}

/** What an operator looks for first (Blender, device, threads, memory); the rest on hover. */
function capabilitySummary(caps: Record<string, unknown>): string {
  const render = (caps.render ?? {}) as Record<string, unknown>;
  const blender = caps.blenderVersion ?? render.blenderVersion;
  const device = caps.deviceClass ?? render.device;
  const memory = Number(caps.memoryBytes ?? Number(render.memoryMb) * 2 ** 20);
  const parts: string[] = [];
  if (blender) parts.push(`Blender ${String(blender)}`);
  if (device) parts.push(String(device));
  if (typeof caps.threads === 'number') parts.push(`${caps.threads} threads`);
  if (memory > 0) parts.push(`${(memory / 2 ** 30).toFixed(1)} GiB`);
  if (parts.length > 0) return parts.join(' · ');
  return Object.entries(caps)
    .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(', ')
    .slice(0, 200);
}
