import { api, JobSummary } from './api.js';
import { duration, h, short, time, wei } from './dom.js';
import { LiveFeed, throttle } from './live.js';

const STATUSES = ['', 'PLANNING', 'RENDERING', 'COMPLETED', 'FAILED', 'CANCELLED'];

/** Jobs: a filtered list with progress, ETA, node time and cost; submit and cancel. */
export function jobsPage(root: HTMLElement): void {
  const params = new URLSearchParams(location.search);
  const filter = h(
    'select',
    { name: 'status', id: 'status-filter' },
    ...STATUSES.map((s) =>
      h('option', { value: s, selected: s === (params.get('status') ?? '') }, s || 'any status'),
    ),
  );
  const body = h('tbody');
  const message = h('p', { class: 'muted' });
  root.replaceChildren(
    h('h2', {}, 'Jobs'),
    submitForm(),
    h('form', { class: 'inline' }, h('label', {}, 'Show ', filter)),
    h(
      'table',
      { id: 'jobs' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...[
            'job',
            'status',
            'progress',
            'frames',
            'ETA',
            'node time',
            'cost',
            'owner',
            'submitted',
            '',
          ].map((c) => h('th', {}, c)),
        ),
      ),
      body,
    ),
    message,
  );

  const load = async () => {
    const q = filter.value ? `?status=${filter.value}` : '';
    const jobs = await api<JobSummary[]>(`/api/v1/jobs${q}`);
    message.textContent = jobs.length ? '' : 'No jobs yet.';
    body.replaceChildren(...jobs.map(row));
  };
  filter.addEventListener('change', () => {
    history.replaceState(null, '', filter.value ? `?status=${filter.value}` : location.pathname);
    void load();
  });
  body.addEventListener('click', (e) => {
    const id = (e.target as HTMLElement).getAttribute('data-cancel');
    if (!id || !confirm('Cancel this job? Its leases end now.')) return;
    void api(`/api/v1/jobs/${id}/cancel`, { method: 'POST' }).then(load, (err: Error) =>
      alert(err.message),
    );
  });
  // Progress moves with every tile: reload the list at most every 2 s, not per event.
  const reload = throttle(() => void load(), 2000);
  new LiveFeed('/api/v1/events', { snapshot: load, apply: reload }).start();
}

function row(j: JobSummary): HTMLElement {
  const open = j.status === 'PLANNING' || j.status === 'RENDERING';
  return h(
    'tr',
    { 'data-job': j.id },
    h('td', {}, h('a', { href: `/dashboard/jobs/${j.id}` }, short(j.id))),
    h(
      'td',
      {},
      h('span', { class: `status ${j.status}` }, j.status),
      j.error ? h('div', { class: 'error' }, j.error) : null,
    ),
    h(
      'td',
      {},
      h(
        'span',
        { class: 'bar' },
        (() => {
          const s = h('span');
          s.style.width = `${j.progress.percent}%`;
          return s;
        })(),
      ),
      ` ${j.progress.percent}%`,
    ),
    h('td', {}, `${j.progress.frames.done} / ${j.progress.frames.total}`),
    h('td', {}, open ? duration(j.etaMs) : '–'),
    h('td', {}, duration(j.cost.renderMs)),
    // null on a farm without payouts; the exact amount on hover
    h('td', { class: 'cost', title: j.cost.wei && `${j.cost.wei} wei` }, wei(j.cost.wei)),
    h('td', {}, j.owner),
    h('td', {}, time(j.createdAt)),
    h('td', {}, open ? h('button', { 'data-cancel': j.id }, 'Cancel') : null),
  );
}

/** Submits a .blend with the common settings; the API waits for planning, then the job opens. */
function submitForm(): HTMLElement {
  const num = (name: string, value: string, min = 0) =>
    h('input', { type: 'number', name, value, min });
  const status = h('span', { class: 'muted', id: 'submit-status' });
  const form = h(
    'form',
    { class: 'inline', id: 'submit-job' },
    h('input', { type: 'file', name: 'scene', accept: '.blend', required: true }),
    h('label', {}, 'frames ', num('frameStart', '', 0), '–', num('frameEnd', '', 0)),
    h('label', {}, 'tiles ', num('tilesX', '2', 1), '×', num('tilesY', '2', 1)),
    h(
      'label',
      {},
      'verification ',
      h(
        'select',
        { name: 'verification' },
        ...['standard', 'light', 'paranoid', 'off'].map((v) => h('option', { value: v }, v)),
      ),
    ),
    h('button', { type: 'submit' }, 'Submit job'),
    status,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const data = new FormData(form);
    for (const [k, v] of [...data.entries()]) if (v === '') data.delete(k);
    status.textContent = 'uploading and planning…';
    api<{ id: string }>('/api/v1/jobs', { method: 'POST', body: data }).then(
      (job) => location.assign(`/dashboard/jobs/${job.id}`),
      (err: Error) => {
        status.textContent = err.message;
        status.className = 'error';
      },
    );
  });
  return form;
}
