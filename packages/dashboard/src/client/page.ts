import type { Session } from './api.js';

export interface PageContext {
  session: Session;
  /** Query of the hash route: `#/jobs?state=failed` gives state=failed. */
  params: URLSearchParams;
  /** Segments of the hash route: `#/jobs/12` gives ['jobs', '12']. */
  segments: string[];
  /** Refreshes the page's data at once (after an action). */
  refresh(): Promise<void>;
}

/** A page builds its element once; `load` fetches and redraws its data (called by the poller). */
export interface Page {
  title: string;
  el: HTMLElement;
  load(): Promise<void>;
}

/** Builds an in-app link for a hash route, dropping empty parameters. */
export function route(path: string, params: Record<string, string | null | undefined> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const search = q.toString();
  return `#${path}${search ? `?${search}` : ''}`;
}
