import { h } from './dom.js';
import { route } from './page.js';

export function badge(state: string): HTMLElement {
  return h('span', { class: `badge badge-${state.replace(/[^a-z-]/g, '')}`, 'data-state': state }, state);
}

export function card(title: string | null, ...body: (Node | string | null | false)[]): HTMLElement {
  return h('section', { class: 'card' }, title ? h('h2', { class: 'card-title' }, title) : null, ...body);
}

let toastTimer: number | undefined;

/** A short message at the bottom of the screen; errors stay until the next one. */
export function toast(message: string, kind: 'ok' | 'error' = 'ok'): void {
  let el = document.getElementById('toast');
  if (!el) {
    el = h('div', { id: 'toast', role: 'status' });
    document.body.append(el);
  }
  el.textContent = message;
  el.className = `toast toast-${kind} toast-show`;
  window.clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => el?.classList.remove('toast-show'), kind === 'error' ? 8000 : 3000);
}

/**
 * A button that runs an action; with `confirm`, the first click arms it ("Delete?") and
 * only a second click within a few seconds acts: no modal dialogs, no accidental deletes.
 * `confirm` may be a function, for a question that depends on the moment ("Delete 3 jobs?");
 * `enabled` says whether the button may be clicked once an action is over.
 */
export function actionButton(
  label: string,
  run: () => Promise<void>,
  opts: {
    confirm?: string | (() => string);
    kind?: 'primary' | 'danger' | 'plain';
    testId?: string;
    enabled?: () => boolean;
  } = {},
): HTMLButtonElement {
  const button = h(
    'button',
    {
      type: 'button',
      class: `btn btn-${opts.kind ?? 'plain'}`,
      'data-testid': opts.testId,
    },
    label,
  );
  let armed: number | undefined;
  button.addEventListener('click', async () => {
    if (opts.confirm && armed === undefined) {
      button.textContent = typeof opts.confirm === 'function' ? opts.confirm() : opts.confirm;
      button.classList.add('btn-armed');
      armed = window.setTimeout(() => {
        armed = undefined;
        button.textContent = label;
        button.classList.remove('btn-armed');
      }, 4000);
      return;
    }
    window.clearTimeout(armed);
    armed = undefined;
    button.classList.remove('btn-armed');
    button.disabled = true;
    button.textContent = `${label}…`;
    try {
      await run();
    } catch (e) {
      toast((e as Error).message, 'error');
    } finally {
      button.disabled = opts.enabled ? !opts.enabled() : false;
      button.textContent = label;
    }
  });
  return button;
}

export function empty(text: string, colspan: number): HTMLElement {
  return h('tr', { class: 'empty' }, h('td', { colspan }, text));
}

/**
 * The cells every job table starts with: a link to the job, its task and its queue. A long
 * task name is cut short with an ellipsis (whole in its tooltip and on the job's page).
 * On a phone a table row becomes a small card (phone.css): its `key` cells make the first
 * line, the others follow, each after its `data-label`.
 */
export function jobCells(j: { id: string; task: string; queue: string }): HTMLElement[] {
  return [
    h('td', { class: 'key' }, h('a', { href: route(`/jobs/${j.id}`), class: 'mono' }, `#${j.id}`)),
    h('td', { class: 'key mono clip task', title: j.task }, j.task),
    h('td', { 'data-label': 'queue' }, j.queue),
  ];
}
