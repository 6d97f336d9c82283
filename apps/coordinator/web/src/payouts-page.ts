import { api, Payout } from './api.js';
import { h, short, time, wei } from './dom.js';
import { LiveFeed, throttle } from './live.js';

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
          ...['when', 'kind', 'job', 'node', 'address', 'amount', 'transaction', 'status'].map(
            (c) => h('th', {}, c),
          ),
        ),
      ),
      body,
    ),
    message,
  );
  const load = async () => {
    const { items } = await api<{ items: Payout[] }>('/api/v1/payouts');
    message.textContent = items.length ? '' : 'No payouts yet.';
    body.replaceChildren(...items.map(row));
  };
  const reload = throttle(() => void load(), 2000);
  new LiveFeed('/api/v1/events', {
    snapshot: load,
    apply: (batch) => batch.some((b) => b.event.type === 'payout') && reload(),
  }).start();
}

function row(p: Payout): HTMLElement {
  return h(
    'tr',
    { 'data-payout': p.id, class: `k-${p.kind}` },
    h('td', {}, time(p.createdAt)),
    h('td', { class: 'kind' }, p.kind),
    h('td', {}, h('a', { href: `/dashboard/jobs/${p.jobId}` }, short(p.jobId))),
    h(
      'td',
      { class: 'node', title: p.nodeId },
      p.nodeId ? (p.nodeName ?? short(p.nodeId)) : 'requester',
    ),
    h('td', {}, h('code', {}, p.address)),
    h('td', { class: 'amount', title: `${p.amountWei} wei` }, wei(p.amountWei)),
    h(
      'td',
      { class: 'tx', title: p.blockNumber === null ? null : `block ${p.blockNumber}` },
      h('code', {}, p.txHash ?? '–'),
      // earlier signatures of the step, replaced by higher fees
      ...p.replacedTxHashes.map((hash) =>
        h('div', { class: 'muted replaced' }, 'replaced ', h('code', {}, hash)),
      ),
    ),
    h('td', {}, p.status ?? '–'),
  );
}
