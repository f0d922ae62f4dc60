/**
 * `ml-connector replay`: put dead jobs back in the queue (a fresh retry cadence; their attempt
 * history stays). One job by id, or all dead jobs matching --kind / --connection / --error /
 * --since; `--all` is needed to replay every dead job. `--dry-run` only lists what would be replayed.
 * A dead job superseded by a newer succeeded job with its key is skipped (it would do the work
 * twice) unless `--force`; the dry run names those too.
 */
import { type Command, Option } from 'commander';
import { UserError } from '../../config/errors.js';
import { appendAudit } from '../../store/audit.js';
import { findReplayCandidates, type ReplayFilter, replayJobs } from '../../store/jobs/replay.js';
import { countFlag, durationFlag } from '../options.js';
import type { Program } from '../program.js';
import { formatElapsed, progressOn, ratePerMinute } from '../progress.js';

interface ReplayOptions {
  kind?: string;
  connection?: string;
  error?: string;
  since?: number;
  all?: boolean;
  dryRun?: boolean;
  force?: boolean;
  every: number;
}

export function registerReplay(program: Command, app: Program): void {
  program
    .command('replay')
    .description('queue dead jobs again: by id, or by --kind/--connection/--error/--since, or --all')
    .argument('[ids...]', 'job ids')
    .option('--kind <kind>', 'dead jobs of this kind, e.g. orders.push')
    .option('--connection <name>', 'dead jobs of this connection')
    .option('--error <text>', 'dead jobs whose last error contains this text')
    .option('--since <duration>', 'dead jobs that died within this long, e.g. 2h', durationFlag('2h'))
    .option('--all', 'every dead job (needed when no other filter is given)')
    .option('--dry-run', 'only show what would be replayed')
    .option('--force', 'replay superseded jobs too (a newer job with the same key succeeded since)')
    .addOption(
      new Option('--every <n>', 'without a terminal: a progress line every n jobs (and every 10 s)')
        .argParser(countFlag)
        .default(500),
    )
    .action(async (ids: string[], options: ReplayOptions) => {
      const filter: ReplayFilter = {};
      if (ids.length > 0) {
        filter.ids = ids.map((id) => {
          const n = Number(id);
          if (!Number.isInteger(n) || n < 1) throw new UserError(`"${id}" is not a job id (a whole number).`);
          return n;
        });
      }
      if (options.kind) filter.kind = options.kind;
      if (options.connection) filter.connection = options.connection;
      if (options.error) filter.errorContains = options.error;
      if (options.since !== undefined) filter.finishedSince = Date.now() - options.since;
      if (Object.keys(filter).length === 0 && !options.all) {
        throw new UserError(
          'Say which dead jobs to replay: job ids, --kind, --connection, --error or --since (or --all for every dead job). See the dead jobs with `ml-connector jobs list --state dead`.',
        );
      }
      const store = await app.context().store();
      if (options.dryRun) {
        const all = await findReplayCandidates(store, filter);
        const superseded = options.force ? [] : all.filter((c) => c.supersededBy !== null);
        const candidates = options.force ? all : all.filter((c) => c.supersededBy === null);
        app.out(
          candidates.length === 0
            ? 'No dead jobs match.'
            : `Would replay ${candidates.length} dead job(s): ${candidates.map((c) => c.id).join(', ')}`,
        );
        for (const c of superseded)
          app.out(`Would skip job ${c.id}: superseded by job ${c.supersededBy} (--force replays it)`);
        return;
      }
      // Many jobs: a bar of replayed and skipped out of the candidates on a terminal, a plain line
      // every --every jobs otherwise (batches of at most 500 jobs), and a summary with the rate.
      const progress = progressOn(process.stdout, (text) => app.out(text), {
        label: 'replay',
        fields: ['replayed', 'skipped'],
        doneFields: ['replayed', 'skipped'],
        everyOrders: options.every,
      });
      const { replayed, skipped } = await replayJobs(store, filter, Date.now(), {
        force: options.force,
        batchSize: Math.min(500, options.every),
        onProgress: ({ replayed: r, skipped: s, total }) => {
          progress.setTotal(total);
          progress.update({ replayed: r, skipped: s });
        },
      });
      progress.finish({ replayed: replayed.length, skipped: skipped.length });
      if (filter.ids) {
        const found = new Set([...replayed, ...skipped.map((s) => s.id)]);
        const missing = filter.ids.filter((id) => !found.has(id));
        if (missing.length > 0) app.err(`Not dead (or no such job), left as they are: ${missing.join(', ')}`);
      }
      for (const s of skipped) app.err(`Skipped job ${s.id}: ${s.reason}`);
      if (replayed.length > 0) {
        await appendAudit(store.db, {
          connection: filter.connection ?? '*',
          flow: 'jobs',
          entityType: 'jobs',
          entityKey: replayed.length === 1 ? String(replayed[0]) : `${replayed.length} jobs`,
          action: 'replay',
          outcome: 'ok',
          detail: { filter, ids: replayed.slice(0, 1000) },
        });
      }
      app.out(
        replayed.length === 0
          ? 'No dead jobs match; nothing replayed.'
          : `Replayed ${replayed.length} job(s): ${replayed.slice(0, 50).join(', ')}${replayed.length > 50 ? ', …' : ''}`,
      );
      if (progress.shown) {
        const elapsed = progress.elapsedMs();
        const counts = { replayed: replayed.length, skipped: skipped.length };
        app.out(
          `replay done in ${formatElapsed(elapsed)}: replayed ${replayed.length}, skipped ${skipped.length} of ${replayed.length + skipped.length}; ${ratePerMinute(counts, elapsed, ['replayed', 'skipped'])}/min`,
        );
      }
    });
}
