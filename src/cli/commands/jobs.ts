/**
 * `ml-connector jobs`: counts by kind and state. `jobs list` shows jobs (e.g. the dead ones with
 * their last error); `jobs show <id>` shows one job and its attempt history; `jobs purge` deletes
 * finished jobs past retention now (a running worker also does it hourly); `jobs schedules` shows
 * each poll schedule with its last poll job, its failures and last error.
 */
import type { Command } from 'commander';
import { formatDuration } from '../../config/duration.js';
import { UserError } from '../../config/errors.js';
import type { JobState } from '../../store/database.js';
import { countPurgeable, purgeFinishedJobs } from '../../store/jobs/purge.js';
import {
  countJobsByKindAndState,
  getJob,
  listAttempts,
  listJobs,
  listScheduleStatus,
} from '../../store/jobs/queries.js';
import { findSuperseding } from '../../store/jobs/replay.js';
import { durationFlag } from '../options.js';
import type { Program } from '../program.js';

const STATES: JobState[] = ['queued', 'running', 'succeeded', 'dead', 'cancelled'];

function iso(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString();
}

function positiveInt(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new UserError(`${what} must be a whole number above 0, got "${text}".`);
  return n;
}

export function registerJobs(program: Command, app: Program): void {
  const jobs = program
    .command('jobs')
    .description('job counts by kind and state (subcommands: list, show, schedules, purge)')
    .option('--connection <name>', 'only this connection')
    .action(async (options: { connection?: string }) => {
      const store = await app.context().store();
      const counts = await countJobsByKindAndState(store, { connection: options.connection });
      if (counts.length === 0) {
        app.out('No jobs.');
        return;
      }
      const byKind = new Map<string, Record<string, number>>();
      for (const c of counts) {
        const row = byKind.get(c.kind) ?? {};
        row[c.state] = c.count;
        byKind.set(c.kind, row);
      }
      app.out(['KIND', ...STATES.map((s) => s.toUpperCase())].join('\t'));
      for (const [kind, row] of byKind) app.out([kind, ...STATES.map((s) => String(row[s] ?? 0))].join('\t'));
    });

  jobs
    .command('list')
    .description('list jobs, newest first (e.g. --state dead to see what failed and why)')
    .option('--state <state>', `one of ${STATES.join(', ')}`)
    .option('--kind <kind>', 'only this job kind')
    .option('--connection <name>', 'only this connection')
    .option('--limit <n>', 'at most this many', '50')
    .action(async (options: { state?: string; kind?: string; connection?: string; limit: string }) => {
      if (options.state && !STATES.includes(options.state as JobState)) {
        throw new UserError(`Unknown state "${options.state}": use one of ${STATES.join(', ')}.`);
      }
      const store = await app.context().store();
      const rows = await listJobs(store, {
        state: options.state as JobState | undefined,
        kind: options.kind,
        connection: options.connection,
        limit: positiveInt(options.limit, '--limit'),
      });
      if (rows.length === 0) {
        app.out('No jobs match.');
        return;
      }
      // A dead job whose key succeeded in a newer job is said to be superseded (replay skips it).
      const superseded = await findSuperseding(
        store,
        rows.filter((j) => j.state === 'dead').map((j) => ({ id: j.id, key: j.idempotencyKey })),
      );
      app.out(['ID', 'KIND', 'CONNECTION', 'STATE', 'ATTEMPTS', 'RUN_AT', 'LAST_ERROR'].join('\t'));
      for (const j of rows) {
        const by = superseded.get(j.id);
        app.out(
          [
            j.id,
            j.kind,
            j.connection,
            j.state,
            j.attempts,
            iso(j.runAt),
            (by === undefined ? '' : `superseded by job ${by}: `) + (j.lastError ?? '').replace(/\s+/g, ' '),
          ].join('\t'),
        );
      }
    });

  jobs
    .command('show')
    .description('one job with its payload and every attempt (earlier runs included after a replay)')
    .argument('<id>', 'job id')
    .action(async (id: string) => {
      const store = await app.context().store();
      const job = await getJob(store, positiveInt(id, 'The job id'));
      if (!job) throw new UserError(`No job ${id}. List jobs with \`ml-connector jobs list\`.`);
      app.out(`Job ${job.id}: ${job.kind} for ${job.connection}, ${job.state}`);
      app.out(
        `  attempts ${job.attempts}, replays ${job.replays}, run at ${iso(job.runAt)}, created ${iso(job.createdAt)}`,
      );
      if (job.idempotencyKey) app.out(`  key ${job.idempotencyKey}`);
      if (job.groupKey) app.out(`  group ${job.groupKey}`);
      if (job.lastError) app.out(`  last error: ${job.lastError}`);
      if (job.inDoubt) {
        // The write may have taken effect: the next attempt checks first; an operator replaying a
        // dead job should look in the target system.
        app.out(
          `  in doubt${job.inDoubt.since === null ? '' : ` since ${iso(job.inDoubt.since)}`}: ${job.inDoubt.error}`,
        );
        if (job.inDoubt.evidence !== undefined)
          app.out(`  in-doubt evidence: ${JSON.stringify(job.inDoubt.evidence)}`);
      }
      app.out(`  payload: ${JSON.stringify(job.payload)}`);
      const attempts = await listAttempts(store, job.id);
      if (attempts.length === 0) {
        app.out('No attempts yet.');
        return;
      }
      app.out(['ATTEMPT', 'OUTCOME', 'WORKER', 'STARTED', 'FINISHED', 'ERROR'].join('\t'));
      for (const a of attempts) {
        app.out(
          [a.attempt, a.outcome, a.worker ?? '-', iso(a.startedAt), iso(a.finishedAt), a.error ?? ''].join(
            '\t',
          ),
        );
      }
    });

  jobs
    .command('schedules')
    .description(
      'each poll schedule: interval, next due time, and its last poll job with failures and last error',
    )
    .action(async () => {
      const rows = await listScheduleStatus(await app.context().store());
      if (rows.length === 0) {
        app.out('No schedules.');
        return;
      }
      app.out(
        ['CONNECTION', 'KIND', 'EVERY', 'NEXT_DUE', 'LAST_JOB', 'STATE', 'FAILURES', 'LAST_ERROR'].join('\t'),
      );
      for (const r of rows) {
        app.out(
          [
            r.connection,
            r.kind,
            formatDuration(r.intervalMs),
            iso(r.nextRunAt),
            r.lastJob?.id ?? '-',
            r.lastJob?.state ?? '-',
            r.lastJob?.failures ?? 0,
            (r.lastJob?.lastError ?? '').replace(/\s+/g, ' '),
          ].join('\t'),
        );
      }
    });

  jobs
    .command('purge')
    .description(
      'delete succeeded and cancelled jobs (and their attempts) that finished longer ago than the retention; dead jobs are kept',
    )
    .option(
      '--older-than <duration>',
      'jobs that finished longer ago than this, e.g. 7d or 12h (default: retention.finishedJobs)',
      durationFlag('7d', { positive: true }),
    )
    .option('--dry-run', 'only show what would be deleted')
    .action(async (options: { olderThan?: number; dryRun?: boolean }) => {
      const context = app.context();
      const keepMs = options.olderThan ?? context.config.retention.finishedJobs;
      if (keepMs <= 0) {
        app.out(
          'Retention is 0 (retention.finishedJobs: keep for ever); nothing purged. Pass --older-than to purge anyway.',
        );
        return;
      }
      const cutoff = Date.now() - keepMs;
      const store = await context.store();
      if (options.dryRun) {
        const rows = await countPurgeable(store, { finishedBefore: cutoff });
        const total = rows.reduce((n, r) => n + r.count, 0);
        for (const r of rows) app.out(`${r.kind}\t${r.state}\t${r.count}`);
        app.out(
          `Dry run: would purge ${total} finished job${total === 1 ? '' : 's'} older than ${formatDuration(keepMs)} (finished before ${iso(cutoff)}); nothing deleted.`,
        );
        return;
      }
      const purged = await purgeFinishedJobs(store, { finishedBefore: cutoff });
      app.out(
        `Purged ${purged} finished job${purged === 1 ? '' : 's'} older than ${formatDuration(keepMs)} (finished before ${iso(cutoff)}). Dead jobs are kept.`,
      );
    });
}
