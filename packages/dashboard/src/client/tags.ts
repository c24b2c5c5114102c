import { h } from './dom.js';
import { route } from './page.js';

/** A job's tags, each a link to the jobs list filtered by it. */
export function tagLinks(
  tags: string[],
  base = '/jobs',
  keep: Record<string, string | null> = {},
): HTMLElement {
  return h(
    'span',
    { class: 'tags', 'data-testid': 'tags' },
    ...tags.map((t) => h('a', { class: 'tag', href: route(base, { ...keep, tag: t }), title: t }, t)),
  );
}
