import type { Queryable } from '@queue/core';
import { quote } from './schema.js';

/** What the progress bars show, read from Postgres on every tick. */
export interface LiveCounts {
  users: number;
  /** Distinct (user, job kind) done: a job that ran twice counts once. */
  guaranteedDone: number;
  geocodes: number;
  /** Rows in the queue's jobs table: waiting, running, or failed. */
  jobsLeft: number;
}

export async function liveCounts(db: Queryable, schema: string): Promise<LiveCounts> {
  const s = quote(schema);
  const { rows } = await db.query(`
    SELECT (SELECT count(*) FROM ${s}.users)::int AS users,
           ((SELECT count(DISTINCT user_id) FROM ${s}.welcome_emails)
             + (SELECT count(DISTINCT user_id) FROM ${s}.crm_syncs))::int AS "guaranteedDone",
           (SELECT count(*) FROM ${s}.geocodes)::int AS geocodes,
           (SELECT count(*) FROM ${s}.jobs)::int AS "jobsLeft"`);
  return rows[0];
}

/** The story's outcome, all from SELECTs once both apps are gone. */
export interface StoryFigures {
  users: number;
  usersV1: number;
  usersV2: number;
  /** Welcome emails plus CRM syncs owed: two per committed user. */
  guaranteedDue: number;
  guaranteedDone: number;
  /** Jobs whose first attempt was cut off by the SIGKILL and ran again (attempt > 1). */
  ranAgain: number;
  /** Of those, jobs that had written their row before the kill, so wrote it twice. */
  twice: number;
  geocodes: number;
  geocodesV1: number;
  /** Jobs still in the queue's table (waiting or failed): none when the story completed. */
  jobsLeft: number;
  failedJobs: number;
}

export async function storyFigures(db: Queryable, schema: string): Promise<StoryFigures> {
  const s = quote(schema);
  const { rows } = await db.query(`
    WITH runs AS (
      SELECT job_id, attempt FROM ${s}.welcome_emails
      UNION ALL
      SELECT job_id, attempt FROM ${s}.crm_syncs
    ), per_job AS (
      SELECT job_id, count(*) AS rows, max(attempt) AS last_attempt FROM runs GROUP BY job_id
    )
    SELECT (SELECT count(*) FROM ${s}.users)::int AS users,
           (SELECT count(*) FROM ${s}.users WHERE app = 'v1')::int AS "usersV1",
           (SELECT count(*) FROM ${s}.users WHERE app = 'v2')::int AS "usersV2",
           (2 * (SELECT count(*) FROM ${s}.users))::int AS "guaranteedDue",
           ((SELECT count(DISTINCT user_id) FROM ${s}.welcome_emails)
             + (SELECT count(DISTINCT user_id) FROM ${s}.crm_syncs))::int AS "guaranteedDone",
           (SELECT count(*) FROM per_job WHERE last_attempt > 1)::int AS "ranAgain",
           (SELECT count(*) FROM per_job WHERE rows > 1)::int AS twice,
           (SELECT count(DISTINCT user_id) FROM ${s}.geocodes)::int AS geocodes,
           (SELECT count(DISTINCT g.user_id) FROM ${s}.geocodes g
              JOIN ${s}.users u ON u.id = g.user_id WHERE u.app = 'v1')::int AS "geocodesV1",
           (SELECT count(*) FROM ${s}.jobs)::int AS "jobsLeft",
           (SELECT count(*) FROM ${s}.jobs WHERE failed_at IS NOT NULL)::int AS "failedJobs"`);
  return rows[0];
}
