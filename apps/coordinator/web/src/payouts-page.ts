import { api, HttpError } from './api.js';
import { h, short, time } from './dom.js';
import { LiveFeed, throttle } from './live.js';

/** One settlement, slash or refund as the payouts API lists it (issue 4). */
interface Payout {
  id?: string;
  kind?: string;
  jobId?: string | null;
  nodeId?: string | null;
  amountWei?: string;
  txHash?: string | null;
  createdAt?: string;
  status?: string;
}

/** Payouts: settlements with transaction hashes, slashes and refunds, from GET /api/v1/payouts. */
export function payoutsPage(root: HTMLElement): void {
  const body = h('tbody');
  const message = h('p', { class: 'muted', id: 'payouts-message' });
  root.replaceChildren(
    h('h2', {}, 'Payouts'),
    h(
      'table',
      { id: 'payouts' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['when', 'kind', 'job', 'node', 'amount (wei)', 'transaction', 'status'].map((c) =>
            h('th', {}, c),
          ),
        ),
      ),
      body,
    ),
    message,
  );
  const load = async () => {
    let payouts: Payout[];
    try {
      const res = await api<Payout[] | { items: Payout[] }>('/api/v1/payouts');
      payouts = Array.isArray(res) ? res : res.items;
    } catch (e) {
      // Until the payouts API exists (404), there is nothing to show.
      if (e instanceof HttpError && e.status === 404) payouts = [];
      else throw e;
    }
    message.textContent = payouts.length ? '' : 'No payouts yet.';
    body.replaceChildren(
      ...payouts.map((p) =>
        h(
          'tr',
          {},
          h('td', {}, time(p.createdAt)),
          h('td', {}, p.kind ?? ''),
          h(
            'td',
            {},
            p.jobId ? h('a', { href: `/dashboard/jobs/${p.jobId}` }, short(p.jobId)) : '–',
          ),
          h('td', {}, short(p.nodeId)),
          h('td', {}, p.amountWei ?? ''),
          h('td', {}, h('code', {}, p.txHash ?? '–')),
          h('td', {}, p.status ?? ''),
        ),
      ),
    );
  };
  const reload = throttle(() => void load(), 2000);
  new LiveFeed('/api/v1/events', {
    snapshot: load,
    apply: (batch) => batch.some((b) => b.event.type === 'payout') && reload(),
  }).start();
}
