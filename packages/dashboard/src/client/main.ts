import { ApiError, loadSession, type Session } from './api.js';
import { fill, h } from './dom.js';
import { Poller } from './live.js';
import type { Page, PageContext } from './page.js';
import { jobPage } from './pages/job.js';
import { jobsPage } from './pages/jobs.js';
import { limitsPage } from './pages/limits.js';
import { overviewPage } from './pages/overview.js';
import { runningPage } from './pages/running.js';
import { schedulesPage } from './pages/schedules.js';

const NAV = [
  ['#/', 'Overview', 'overview'],
  ['#/jobs', 'Jobs', 'jobs'],
  ['#/running', 'Running', 'running'],
  ['#/failed', 'Failed', 'failed'],
  ['#/schedules', 'Schedules', 'schedules'],
  ['#/limits', 'Limits', 'limits'],
] as const;

let poller: Poller | undefined;

function pageFor(ctx: PageContext): Page {
  const [first, second] = ctx.segments;
  if (first === 'jobs' && second) return jobPage(ctx, second);
  if (first === 'jobs') return jobsPage(ctx);
  if (first === 'failed') return jobsPage(ctx, 'failed');
  if (first === 'running') return runningPage(ctx);
  if (first === 'schedules') return schedulesPage(ctx);
  if (first === 'limits') return limitsPage(ctx);
  return overviewPage(ctx);
}

function layout(session: Session) {
  const status = h('span', { class: 'live', 'data-testid': 'live' }, 'live');
  const nav = h(
    'nav',
    { class: 'nav' },
    ...NAV.map(([href, label, id]) => h('a', { href, 'data-nav': id }, label)),
  );
  const main = h('main', { class: 'main' });
  const header = h(
    'header',
    { class: 'top' },
    h(
      'div',
      { class: 'brand' },
      h('span', { class: 'logo', 'aria-hidden': 'true' }),
      h('span', { class: 'brand-name' }, session.title),
    ),
    nav,
    h(
      'div',
      { class: 'top-right' },
      session.readOnly ? h('span', { class: 'badge badge-readonly' }, 'read-only') : null,
      status,
    ),
  );
  fill(document.getElementById('app')!, header, main);
  return { main, nav, status };
}

function show(session: Session, frame: ReturnType<typeof layout>) {
  poller?.stop();
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path = '/', query = ''] = raw.split('?');
  const segments = path
    .split('/')
    .filter(Boolean)
    .map((s) => decodeURIComponent(s));
  const ctx: PageContext = {
    session,
    params: new URLSearchParams(query),
    segments,
    refresh: () => poller?.now() ?? Promise.resolve(),
  };
  const page = pageFor(ctx);
  const active = segments[0] === 'jobs' && segments[1] ? '' : (segments[0] ?? 'overview');
  for (const a of frame.nav.querySelectorAll('a'))
    a.classList.toggle('active', a.getAttribute('data-nav') === (active || 'x'));
  document.title = `${page.title} · ${session.title}`;
  fill(frame.main, page.el);
  poller = new Poller(page.load, session.refreshInterval, (ok, message) => {
    frame.status.className = ok ? 'live' : 'live live-down';
    frame.status.textContent = ok ? 'live' : 'reconnecting';
    frame.status.title = ok ? 'Updating without reloads' : (message ?? '');
  });
  poller.start();
}

async function boot() {
  const app = document.getElementById('app')!;
  let session: Session;
  try {
    session = await loadSession();
  } catch (e) {
    const denied = e instanceof ApiError && e.status === 401;
    fill(
      app,
      h(
        'div',
        { class: 'boot' },
        h('h1', null, denied ? 'Not authorized' : 'Cannot load the dashboard'),
        h('p', null, (e as Error).message),
      ),
    );
    return;
  }
  const frame = layout(session);
  window.addEventListener('hashchange', () => show(session, frame));
  show(session, frame);
}

void boot();
