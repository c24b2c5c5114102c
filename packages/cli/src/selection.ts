import type { JobSelection } from '@queue/core';
import { choiceFlag, jobIds, nameFlag, tagFlag } from './args.js';
import { UsageError } from './errors.js';

/** The flags of a filtered bulk form, for parse(). */
export const SELECTION_OPTIONS = {
  state: { type: 'string' },
  queue: { type: 'string' },
  task: { type: 'string' },
  tag: { type: 'string' },
  yes: { type: 'boolean' },
} as const;

type BulkState = NonNullable<JobSelection['state']>;

/** What a `retry` or `delete` command line acts on: ids, or every job one filter matches. */
export type Target =
  | { ids: string[] }
  | {
      filter: JobSelection & { state: BulkState };
      /** The filter in words, after the state: ' of queue "emails" tagged "vip"'. */
      scope: string;
    };

/** "3 failed jobs of queue "emails"": a count of the jobs a filter matched, in words. */
export function counted(n: number, t: { filter: { state: string }; scope: string }): string {
  return `${n} ${t.filter.state} job${n === 1 ? '' : 's'}${t.scope}`;
}

/**
 * Job ids, or `--state` with optional --queue, --task, --tag; not both. A filtered form whose
 * state is in `confirm` needs --yes (checked here, before connecting): it removes jobs or runs
 * finished work again, so a typo must not reach the database.
 */
export function target(
  command: 'retry' | 'delete',
  values: Record<string, any>,
  positionals: string[],
  states: readonly BulkState[],
  confirm: readonly BulkState[],
): Target {
  const state = choiceFlag('state', values.state, states);
  const queue = nameFlag('queue', values.queue);
  const task = nameFlag('task', values.task);
  const tag = tagFlag(values.tag);
  if (state === undefined) {
    if (queue !== undefined || task !== undefined || tag !== undefined)
      throw new UsageError(
        `--queue, --task and --tag go with --state (one of ${states.join(', ')}): queue ${command} --state ${states[0]} --queue emails`,
      );
    if (values.yes) throw new UsageError(`--yes confirms a filtered ${command} (--state); ids need none`);
    return { ids: jobIds(command, positionals) };
  }
  if (positionals.length > 0) throw new UsageError('give job ids or --state, not both');
  const scope = [
    ...(queue !== undefined ? [` of queue ${JSON.stringify(queue)}`] : []),
    ...(task !== undefined ? [` of task ${JSON.stringify(task)}`] : []),
    ...(tag !== undefined ? [` tagged ${JSON.stringify(tag)}`] : []),
  ].join('');
  if (confirm.includes(state) && !values.yes) {
    const verb = command === 'delete' ? 'deletes' : 'runs again';
    throw new UsageError(`this ${verb} every ${state} job${scope}: add --yes to confirm`);
  }
  return {
    filter: {
      state,
      ...(queue !== undefined ? { queue } : {}),
      ...(task !== undefined ? { task } : {}),
      ...(tag !== undefined ? { tag } : {}),
    },
    scope,
  };
}
