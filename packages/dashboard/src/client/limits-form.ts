import { act } from './api.js';
import { h } from './dom.js';

/** A queue's limits as the API gives them (core's QueueLimits). */
export interface Limits {
  queue: string;
  concurrency: number | null;
  keyConcurrency: number | null;
  rate: { limit: number; periodMs: number } | null;
  fair: boolean;
}

/**
 * A field's value for setLimits(): empty removes the limit (null), a number goes as a number,
 * anything else goes as typed, so core refuses it with its own message naming the field
 * (Number('abc') would become NaN, which JSON sends as null: a silent removal).
 */
function value(input: HTMLInputElement): unknown {
  const text = input.value.trim();
  if (text === '') return null;
  return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
}

function field(label: string, name: string, current: number | null | undefined, hint: string) {
  const input = h('input', {
    type: 'search',
    name,
    inputmode: 'numeric',
    placeholder: hint,
    'aria-label': label,
    'data-testid': name,
    value: current ?? '',
  });
  return { input, el: h('label', { class: 'limit-field' }, h('span', null, label), input) };
}

/**
 * The form that changes one queue's limits (or, with no `limits`, sets some on a queue named in
 * it). A refusal shows core's message beside the form, as the jobs filter shows its own.
 */
export function limitsForm(
  limits: Limits | null,
  done: (message: string) => Promise<void>,
): { el: HTMLElement; reset(limits: Limits): void } {
  const queueInput = limits
    ? null
    : h('input', {
        type: 'search',
        name: 'queue',
        placeholder: 'queue',
        'aria-label': 'Queue',
        'data-testid': 'limit-queue',
      });
  const concurrency = field('in use at most', 'concurrency', limits?.concurrency, 'no limit');
  const keyConcurrency = field('per key', 'key-concurrency', limits?.keyConcurrency, 'no limit');
  const rateLimit = field('starts', 'rate-limit', limits?.rate?.limit, 'no limit');
  const ratePeriod = field('per ms', 'rate-period', limits?.rate?.periodMs, '60000');
  const fair = h('input', { type: 'checkbox', name: 'fair', 'data-testid': 'fair', checked: limits?.fair });
  const error = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'limits-error' });
  const save = h(
    'button',
    { type: 'submit', class: 'btn btn-primary', 'data-testid': 'save-limits' },
    'Save',
  );

  async function submit(e: Event) {
    e.preventDefault();
    const queue = limits?.queue ?? queueInput!.value.trim();
    const rateGiven = rateLimit.input.value.trim() !== '' || ratePeriod.input.value.trim() !== '';
    const body = {
      concurrency: value(concurrency.input),
      keyConcurrency: value(keyConcurrency.input),
      // Both or neither: one alone is sent as it is, and core names the missing half.
      rate: rateGiven ? { limit: value(rateLimit.input), periodMs: value(ratePeriod.input) } : null,
      fair: fair.checked,
    };
    save.disabled = true;
    try {
      if (!queue) throw new Error('name the queue to limit');
      await act('POST', `api/queues/${encodeURIComponent(queue)}/limits`, body);
      error.textContent = '';
      await done(`Limits of ${queue} saved`);
    } catch (err) {
      error.textContent = (err as Error).message;
    } finally {
      save.disabled = false;
    }
  }

  const el = h(
    'form',
    { class: 'limits-form', 'data-testid': 'limits-form', on: { submit } },
    h(
      'div',
      { class: 'filters' },
      queueInput,
      concurrency.el,
      keyConcurrency.el,
      rateLimit.el,
      ratePeriod.el,
      h('label', { class: 'limit-field' }, fair, h('span', null, 'fair')),
      save,
    ),
    error,
  );
  return {
    el,
    reset(next: Limits) {
      concurrency.input.value = String(next.concurrency ?? '');
      keyConcurrency.input.value = String(next.keyConcurrency ?? '');
      rateLimit.input.value = String(next.rate?.limit ?? '');
      ratePeriod.input.value = String(next.rate?.periodMs ?? '');
      fair.checked = next.fair;
    },
  };
}
