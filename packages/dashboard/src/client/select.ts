import { h } from './dom.js';

/**
 * The ticked jobs of a list, for its bulk actions. Only jobs on the page shown can be ticked,
 * and a job that leaves the page (it ran, was retried elsewhere) leaves the selection at the
 * next refresh, so an action never reaches a job the reader cannot see.
 */
export class Selection {
  readonly ids = new Set<string>();
  private shown: string[] = [];
  private readonly boxes = new Map<string, HTMLInputElement>();
  readonly all: HTMLInputElement;

  constructor(private readonly changed: () => void) {
    this.all = h('input', {
      type: 'checkbox',
      class: 'pick',
      'aria-label': 'Select every job on this page',
      'data-testid': 'select-all',
      on: {
        change: () => {
          for (const id of this.shown) {
            if (this.all.checked) this.ids.add(id);
            else this.ids.delete(id);
          }
          this.sync();
        },
      },
    });
  }

  /** The checkbox cell of one row. */
  cell(id: string): HTMLElement {
    const box = h('input', {
      type: 'checkbox',
      class: 'pick',
      'aria-label': `Select job #${id}`,
      'data-testid': 'select',
      on: {
        change: () => {
          if (box.checked) this.ids.add(id);
          else this.ids.delete(id);
          this.sync();
        },
      },
    });
    box.checked = this.ids.has(id);
    this.boxes.set(id, box);
    return h('td', { class: 'key pick-cell' }, box);
  }

  /** The header cell that ticks every job on the page. */
  head(): HTMLElement {
    return h('th', { class: 'pick-cell' }, this.all);
  }

  /** After a refresh: the jobs now on the page. */
  show(ids: string[]): void {
    this.shown = ids;
    const on = new Set(ids);
    for (const id of [...this.ids]) if (!on.has(id)) this.ids.delete(id);
    for (const id of [...this.boxes.keys()]) if (!on.has(id)) this.boxes.delete(id);
    this.sync();
  }

  clear(): void {
    this.ids.clear();
    this.sync();
  }

  private sync(): void {
    for (const [id, box] of this.boxes) box.checked = this.ids.has(id);
    const n = this.shown.filter((id) => this.ids.has(id)).length;
    this.all.checked = n > 0 && n === this.shown.length;
    this.all.indeterminate = n > 0 && n < this.shown.length;
    this.changed();
  }
}
