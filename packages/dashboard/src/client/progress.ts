import { h } from './dom.js';

/** A running job's progress as the API sends it (see data/progress.ts). */
export interface Progress {
  /** 0 to 100 when the handler reported a percentage; null for a count or JSON. */
  percent: number | null;
  text: string;
}

/**
 * A job's progress: a bar with its percentage, or the value as compact text (a count, or
 * JSON such as {"done":40,"of":120}), or a dash when the handler reported nothing.
 */
export function progressView(p: Progress | null): HTMLElement {
  const el = h('span', { class: 'progress', 'data-testid': 'progress' });
  setProgress(el, p);
  return el;
}

/** Updates a progressView in place, as a page refreshes. */
export function setProgress(el: HTMLElement, p: Progress | null): void {
  el.replaceChildren();
  el.title = p?.text ?? 'No progress reported';
  if (p === null) {
    el.append(h('span', { class: 'muted' }, '—'));
  } else if (p.percent !== null) {
    const bar = h('span', { class: 'progress-fill' });
    bar.style.width = `${Math.max(0, Math.min(100, p.percent))}%`;
    el.append(
      h(
        'span',
        {
          class: 'progress-bar',
          role: 'progressbar',
          'aria-valuemin': 0,
          'aria-valuemax': 100,
          'aria-valuenow': p.percent,
        },
        bar,
      ),
      h('span', { class: 'progress-text' }, p.text),
    );
  } else {
    el.append(h('span', { class: 'progress-text mono' }, p.text));
  }
}
