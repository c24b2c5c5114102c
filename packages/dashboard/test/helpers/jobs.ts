import type { Queue } from '@queue/core';
import type { TestDatabase } from '@queue/test-utils';

/** A job failed for good, as a worker leaves it after its last attempt (set directly, to keep tests fast). */
export async function failedJob(
  queue: Queue<any>,
  db: TestDatabase,
  task: string,
  payload: unknown,
  queueName = 'default',
) {
  const job = await queue.enqueue(task, payload, { queue: queueName, maxAttempts: 1 });
  await db.query(
    `UPDATE queue.jobs SET attempts = 1, failed_at = now(),
       errors = jsonb_build_array(jsonb_build_object('attempt', 1, 'at', now(), 'message', $2::text, 'stack', $3::text))
     WHERE id = $1`,
    [job.id, `${task} failed`, `Error: ${task} failed\n    at handler (tasks.js:1:1)`],
  );
  return job;
}
