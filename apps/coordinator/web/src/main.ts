import { api, HttpError, Me } from './api.js';
import { h } from './dom.js';
import { jobPage } from './job-page.js';
import { jobsPage } from './jobs-page.js';
import { nodesPage } from './nodes-page.js';
import { payoutsPage } from './payouts-page.js';

/** Picks the page from the path; asks for an API key when there is no session. */
async function main(): Promise<void> {
  const root = document.getElementById('app')!;
  window.addEventListener('tessera:signed-out', () => signIn(root));
  let me: Me;
  try {
    me = await api<Me>('/api/v1/session');
  } catch (e) {
    if (e instanceof HttpError && e.status === 401) return signIn(root);
    throw e;
  }
  const who = document.getElementById('who')!;
  const out = h('button', { id: 'sign-out' }, 'Sign out');
  out.addEventListener(
    'click',
    () => void api('/api/v1/session', { method: 'DELETE' }).then(() => location.reload()),
  );
  who.replaceChildren(`${me.name}${me.admin ? ' (admin)' : ''} `, out);

  const path = location.pathname.replace(/\/+$/, '');
  const job = /^\/dashboard\/jobs\/([0-9a-f-]{36})$/.exec(path);
  const page = job
    ? 'jobs'
    : path === '/dashboard/nodes'
      ? 'nodes'
      : path === '/dashboard/payouts'
        ? 'payouts'
        : 'jobs';
  document.querySelector(`nav a[data-nav="${page}"]`)?.classList.add('active');
  if (job) jobPage(root, job[1]);
  else if (page === 'nodes') nodesPage(root);
  else if (page === 'payouts') payoutsPage(root);
  else jobsPage(root);
}

function signIn(root: HTMLElement): void {
  const key = h('input', {
    type: 'password',
    name: 'apiKey',
    placeholder: 'tsk_…',
    size: 40,
    required: true,
    autocomplete: 'off',
  });
  const error = h('p', { class: 'error' });
  const form = h(
    'form',
    { class: 'inline', id: 'sign-in' },
    h('label', {}, 'API key ', key),
    h('button', { type: 'submit' }, 'Sign in'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    api('/api/v1/session', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ apiKey: key.value.trim() }),
    }).then(
      () => location.reload(),
      (err: Error) => (error.textContent = err.message),
    );
  });
  root.replaceChildren(
    h('h2', {}, 'Sign in'),
    h(
      'p',
      { class: 'muted' },
      'Your API key is exchanged for a session cookie; it is not stored in the browser.',
    ),
    form,
    error,
  );
}

void main();
