import { act } from './api.js';
import type { PageContext } from './page.js';
import { actionButton, badge, toast } from './ui.js';

/**
 * Running jobs this tab asked to cancel. Their worker aborts them within about a second; until
 * the job leaves the running list, its row says 'cancelling' instead of offering the button
 * again. Core's `cancelRequestedAt`, where a version of core reports it, says the same for
 * requests made anywhere.
 */
const requested = new Set<string>();

/** Remembers running jobs a bulk cancel asked to abort. */
export function markCancelling(ids: Iterable<string>): void {
  for (const id of ids) requested.add(id);
}

export function isCancelling(job: { id: string; cancelRequestedAt?: string | null }): boolean {
  return Boolean(job.cancelRequestedAt) || requested.has(job.id);
}

/** The 'cancelling' badge of a running job whose worker has been asked to abort it. */
export function cancellingBadge(): HTMLElement {
  const el = badge('cancelling');
  el.title =
    'Its worker has been told to abort the handler; it is recorded cancelled when the handler returns';
  return el;
}

/**
 * Cancels one job (core's cancelJob) after a confirming second click: a queued job is
 * cancelled at once, a running one's worker is told to abort it. A finished or unknown job is
 * refused with core's message (QUEUE_JOB_FINISHED, QUEUE_JOB_NOT_FOUND) in the error toast,
 * like every action.
 */
export function cancelButton(ctx: PageContext, id: string, after?: () => void): HTMLButtonElement {
  return actionButton(
    'Cancel',
    async () => {
      const { state } = await act<{ state: 'cancelled' | 'cancelling' }>('POST', `api/jobs/${id}/cancel`);
      if (state === 'cancelling') {
        requested.add(id);
        toast(`Job #${id} is cancelling: its worker is aborting it`);
      } else {
        toast(`Job #${id} cancelled`);
      }
      after?.();
      await ctx.refresh();
    },
    { kind: 'danger', confirm: 'Cancel this job?', testId: 'cancel' },
  );
}
