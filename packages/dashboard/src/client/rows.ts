import { fill } from './dom.js';

/**
 * Keeps a table body in step with a list of items by id, so that refreshing a page does not
 * rebuild what has not changed: a row whose `key` is the same keeps its element, and with it
 * a half-confirmed button or a ticked box; a row whose key changed is built again. Values that
 * change on every refresh (how long a job has run, its progress) are left out of the key and
 * written into the kept row by `patch`.
 */
export class KeyedRows<T extends { id: string }> {
  private rows = new Map<string, { key: string; el: HTMLElement }>();

  constructor(
    private readonly body: HTMLElement,
    private readonly render: (item: T) => HTMLElement,
    private readonly key: (item: T) => string = (item) => JSON.stringify(item),
    private readonly patch?: (el: HTMLElement, item: T) => void,
  ) {}

  update(items: T[], empty: () => HTMLElement): void {
    if (items.length === 0) {
      this.rows.clear();
      fill(this.body, empty());
      return;
    }
    const next = new Map<string, { key: string; el: HTMLElement }>();
    const els = items.map((item) => {
      const key = this.key(item);
      const kept = this.rows.get(item.id);
      const row = kept && kept.key === key ? kept : { key, el: this.render(item) };
      if (row === kept) this.patch?.(row.el, item);
      next.set(item.id, row);
      return row.el;
    });
    this.rows = next;
    // Moving a kept element keeps its state; only rows out of place move.
    els.forEach((el, i) => {
      if (this.body.children[i] !== el) this.body.insertBefore(el, this.body.children[i] ?? null);
    });
    while (this.body.children.length > els.length) this.body.lastElementChild!.remove();
  }

  /** Every row built again at the next update (after the selection changed how they look). */
  reset(): void {
    this.rows.clear();
  }
}
