import { type Names, quoteIdent } from './names.js';
import { JOB_COLUMNS } from './rows.js';

/**
 * The waiters' channel, `<schema>:done` (Names.doneChannel): the statements that finish a job
 * for good (the worker's finish, cancelJob, deleteJob) notify it for rows with `waited` set,
 * with the payload `<id>:<outcome>`. Apart from the jobs channel so that workers never hear it.
 */
export function doneChannel(n: Names): { name: string; ident: string } {
  return { name: n.doneChannel, ident: quoteIdent(n.doneChannel) };
}

/**
 * Marks job $1 as waited for, so that the statement finishing it notifies the waiters. The
 * UPDATE waits for a finish that holds the row and then finds nothing; what it returns is the
 * row's newest version, so a job it returns has not finished without seeing the mark.
 */
export function markWaitedSql(n: Names): string {
  return `UPDATE ${n.q}.jobs SET waited = true WHERE id = $1::bigint
    RETURNING ${JOB_COLUMNS(`${n.q}.jobs`)}`;
}

/** The history row of job $1: its outcome and result. */
export function finishedJobSql(n: Names): string {
  return `SELECT outcome, result FROM ${n.q}.job_history WHERE id = $1::bigint
    ORDER BY finished_at DESC LIMIT 1`;
}

/** 'in progress', 'committed', 'aborted', or NULL for a transaction too old to tell. */
export const XACT_STATUS_SQL = 'SELECT pg_xact_status($1::xid8) AS status';
