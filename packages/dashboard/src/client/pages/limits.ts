import { act, getJson } from '../api.js';
import { fill, h } from '../dom.js';
import { interval, num } from '../format.js';
import { type Limits, limitsForm } from '../limits-form.js';
import { type Page, type PageContext, route } from '../page.js';
import { actionButton, card, empty, toast } from '../ui.js';

/** One limited queue and what uses its limits now (core's LimitUsage). */
interface Usage extends Limits {
  inUse: number | null;
  recentStarts: number | null;
  running: number;
  waiting: number;
  keys: { key: string; running: number; waiting: number }[];
}

interface LimitsAnswer {
  now: string;
  maxKeys: number;
  queues: Usage[];
}

const NONE = { concurrency: null, keyConcurrency: null, rate: null, fair: false };

/** "2 / 5": used of a limit; "no limit" without one. */
function of(used: number | null, limit: number | null | undefined): string {
  return limit == null ? 'no limit' : `${num(used ?? 0)} / ${num(limit)}`;
}

/**
 * The Limits page: per queue with flow limits, the global slots in use of the limit, the
 * per-key limit, the rate's recent starts of its limit, fairness, and the keys with the most
 * waiting jobs; a form per queue changes its limits, another sets some on a new queue.
 */
export function limitsPage(ctx: PageContext): Page {
  const canAct = !ctx.session.readOnly;
  const list = h('div', { class: 'limits-list' });
  const note = h('p', { class: 'note' });
  const shown = new Map<string, { el: HTMLElement; update(u: Usage, maxKeys: number): void }>();
  const after = async (message: string) => {
    toast(message);
    await ctx.refresh();
  };
  const el = h(
    'div',
    { class: 'page' },
    list,
    note,
    canAct ? card('Limit a queue', limitsForm(null, after).el) : null,
  );

  function queueCard(first: Usage) {
    const stats = h('tbody');
    const keys = h('tbody');
    const form = canAct ? limitsForm(first, after) : null;
    let formLimits = JSON.stringify(limitsOf(first));
    const remove = canAct
      ? actionButton(
          'Remove limits',
          async () => {
            await act('POST', `api/queues/${encodeURIComponent(first.queue)}/limits`, NONE);
            toast(`Limits of ${first.queue} removed: its jobs are claimed without them`);
            await ctx.refresh();
          },
          { confirm: 'Remove all its limits?', kind: 'danger', testId: 'remove-limits' },
        )
      : null;
    const el = h(
      'section',
      { class: 'card', 'data-queue': first.queue, 'data-testid': 'limited-queue' },
      h(
        'h2',
        { class: 'card-title' },
        'Queue ',
        h('a', { href: route('/jobs', { queue: first.queue }), class: 'queue-name' }, first.queue),
      ),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'table', 'data-testid': 'limit-usage' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', { class: 'num' }, 'in use / limit'),
              h('th', { class: 'num' }, 'per key'),
              h('th', { class: 'num' }, 'rate'),
              h('th', null, 'fair'),
              h('th', { class: 'num' }, 'running'),
              h('th', { class: 'num' }, 'waiting'),
            ),
          ),
          stats,
        ),
      ),
      h('h3', { class: 'chart-title limits-keys-title' }, 'Waiting by key'),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'table', 'data-testid': 'keys' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', null, 'key'),
              h('th', { class: 'num' }, 'waiting'),
              h('th', { class: 'num' }, 'running'),
            ),
          ),
          keys,
        ),
      ),
      form?.el ?? null,
      remove,
    );
    let last = '';
    return {
      el,
      update(u: Usage, maxKeys: number) {
        const key = JSON.stringify(u);
        if (key === last) return;
        last = key;
        const rate = u.rate
          ? `${num(u.recentStarts ?? 0)} / ${num(u.rate.limit)} per ${interval(u.rate.periodMs)}`
          : 'no limit';
        fill(
          stats,
          h(
            'tr',
            null,
            h(
              'td',
              { class: 'num', 'data-testid': 'in-use', 'data-label': 'in use / limit' },
              of(u.inUse, u.concurrency),
            ),
            h(
              'td',
              { class: 'num', 'data-testid': 'key-limit', 'data-label': 'per key' },
              u.keyConcurrency == null ? 'no limit' : num(u.keyConcurrency),
            ),
            h('td', { class: 'num', 'data-testid': 'rate', 'data-label': 'rate' }, rate),
            h(
              'td',
              { 'data-testid': 'fair', 'data-label': 'fair' },
              // A per-key limit claims round-robin across keys whether fair is set or not.
              u.fair || u.keyConcurrency != null ? 'yes' : 'no',
            ),
            h('td', { class: 'num', 'data-testid': 'running', 'data-label': 'running' }, num(u.running)),
            h('td', { class: 'num', 'data-testid': 'waiting', 'data-label': 'waiting' }, num(u.waiting)),
          ),
        );
        fill(
          keys,
          u.keys.length === 0
            ? empty('No keyed jobs waiting or running.', 3)
            : u.keys.map((k) =>
                h(
                  'tr',
                  { 'data-key': k.key },
                  h('td', { class: 'key mono clip', title: k.key }, k.key),
                  h(
                    'td',
                    { class: 'num', 'data-testid': 'key-waiting', 'data-label': 'waiting' },
                    num(k.waiting),
                  ),
                  h(
                    'td',
                    { class: 'num', 'data-testid': 'key-running', 'data-label': 'running' },
                    num(k.running),
                  ),
                ),
              ),
          u.keys.length === maxKeys
            ? h(
                'tr',
                { class: 'empty' },
                h('td', { colspan: 3 }, `The ${num(maxKeys)} keys with the most waiting jobs.`),
              )
            : null,
        );
        // The form follows a change made elsewhere, unless the operator is editing it.
        const limits = JSON.stringify(limitsOf(u));
        if (form && limits !== formLimits && !form.el.contains(document.activeElement)) {
          form.reset(u);
          formLimits = limits;
        }
      },
    };
  }

  async function load() {
    const data = await getJson<LimitsAnswer>('api/limits');
    const names = new Set(data.queues.map((q) => q.queue));
    for (const [name, c] of shown) {
      if (!names.has(name)) {
        c.el.remove();
        shown.delete(name);
      }
    }
    for (const u of data.queues) {
      let c = shown.get(u.queue);
      if (!c) {
        c = queueCard(u);
        shown.set(u.queue, c);
      }
      c.update(u, data.maxKeys);
    }
    // In name order (core's), keeping the cards (and any half-typed form) in place.
    for (const u of data.queues) list.append(shown.get(u.queue)!.el);
    fill(
      note,
      data.queues.length === 0
        ? 'No queue has flow limits. Set some below, with queue.setLimits() or `queue limits`.'
        : 'Limits hold across every worker. A job held back by a limit waits without an attempt.',
    );
  }

  return { title: 'Limits', el, load };
}

function limitsOf(u: Limits): Limits {
  return {
    queue: u.queue,
    concurrency: u.concurrency,
    keyConcurrency: u.keyConcurrency,
    rate: u.rate,
    fair: u.fair,
  };
}
