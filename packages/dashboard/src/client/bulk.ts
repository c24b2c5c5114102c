import { act } from './api.js';
import { markCancelling } from './cancel.js';
import { h } from './dom.js';
import { num } from './format.js';
import type { PageContext } from './page.js';
import type { Selection } from './select.js';
import { actionButton, toast } from './ui.js';

export type BulkAction = 'retry' | 'cancel' | 'delete';

interface BulkResult {
  action: BulkAction;
  requested: number;
  done: number;
  cancelling: number;
  cancellingIds: string[];
  refused: { id: string; code: string; message: string }[];
}

const LABELS: Record<BulkAction, [label: string, kind: 'primary' | 'danger' | 'plain']> = {
  retry: ['Retry selected', 'primary'],
  cancel: ['Cancel selected', 'danger'],
  delete: ['Delete selected', 'danger'],
};

const jobs = (n: number) => `${num(n)} job${n === 1 ? '' : 's'}`;

/** What a bulk action did, in one line: what was done, and what was not and why. */
export function summary(r: BulkResult): string {
  const parts: string[] = [];
  if (r.action === 'cancel') {
    if (r.done > 0) parts.push(`${jobs(r.done)} cancelled`);
    if (r.cancelling > 0) parts.push(`${jobs(r.cancelling)} cancelling (their workers abort them)`);
    const refused = r.requested - r.done - r.cancelling;
    if (refused > 0)
      parts.push(`${jobs(refused)} not cancelled: ${r.refused[0]?.message ?? 'finished or gone'}`);
  } else {
    parts.push(`${jobs(r.done)} ${r.action === 'retry' ? 'retried' : 'deleted'}`);
    const left = r.requested - r.done;
    if (left > 0) parts.push(`${jobs(left)} left alone (running, or no longer there)`);
  }
  return parts.join('; ') || 'Nothing to do';
}

/**
 * The bar above a list with the ticked jobs' count and the bulk actions that suit the list.
 * Each asks for a second click naming how many jobs it will touch, like every destructive
 * action, and goes through the same CSRF-checked POST as the single-job ones.
 */
export function bulkBar(ctx: PageContext, selection: Selection, actions: BulkAction[]) {
  const count = h('span', { class: 'muted', 'data-testid': 'selected' }, 'none selected');
  const buttons = actions.map((action) => {
    const [label, kind] = LABELS[action];
    const button = actionButton(
      label,
      async () => {
        const ids = [...selection.ids];
        if (ids.length === 0) return;
        const r = await act<BulkResult>('POST', `api/bulk/${action}`, { ids });
        markCancelling(r.cancellingIds);
        const refused = r.requested - r.done - r.cancelling;
        toast(summary(r), refused > 0 && r.done + r.cancelling === 0 ? 'error' : 'ok');
        selection.clear();
        await ctx.refresh();
      },
      {
        kind,
        confirm: () => `${label.replace(' selected', '')} ${jobs(selection.ids.size)}?`,
        testId: `bulk-${action}`,
        enabled: () => selection.ids.size > 0,
      },
    );
    button.disabled = true;
    return button;
  });
  const el = h('div', { class: 'bulk-bar', 'data-testid': 'bulk' }, count, ...buttons);
  return {
    el,
    /** Called when the selection changes. */
    update() {
      const n = selection.ids.size;
      count.textContent = n === 0 ? 'none selected' : `${num(n)} selected`;
      for (const b of buttons) if (!b.classList.contains('btn-armed')) b.disabled = n === 0;
    },
  };
}
