import { type Command, Option } from 'commander';
import { systemClock } from '../../clock.js';
import { UserError } from '../../config/errors.js';
import { type CheckResult, pingConnection } from '../../sync/ping.js';
import { durationFlag } from '../options.js';
import type { Program } from '../program.js';

const MARK: Record<CheckResult['verdict'], string> = {
  pass: 'ok  ',
  fail: 'FAIL',
  warn: 'warn',
  skip: 'skip',
};

export function formatCheck(r: CheckResult): string {
  const line = `${MARK[r.verdict]}  ${r.connection}  ${r.check}: ${r.detail}`;
  const showAdvice =
    r.advice && (r.verdict === 'fail' || r.verdict === 'warn') && !r.detail.includes(r.advice);
  return showAdvice ? `${line}\n      → ${r.advice}` : line;
}

export function registerPing(program: Command, app: Program): void {
  program
    .command('ping')
    .description(
      'check that a connection works end to end: SYSPRO e.net and OData, ShipStation V1/V2, the webhook URL',
    )
    .argument('[connection]', 'only this connection (default: all)')
    .option('--json', 'one JSON object per check, for machines')
    .addOption(
      new Option(
        '--timeout <duration>',
        'per-request timeout, and the deadline of all SYSPRO checks together, e.g. 5s',
      )
        .argParser(durationFlag('5s', { positive: true }))
        .default(15_000, '15s'),
    )
    .action(async (name: string | undefined, flags: { json?: boolean; timeout: number }) => {
      const ctx = app.context();
      const connections = ctx.config.connections.filter((c) => name === undefined || c.name === name);
      if (connections.length === 0) {
        throw new UserError(
          name
            ? `No connection named "${name}" in the configuration (known: ${ctx.config.connections.map((c) => c.name).join(', ') || 'none'}).`
            : 'No connections are configured. Add one under "connections:" (see README.md), or try `ml-connector sandbox --write-config ml-connector.yaml`.',
        );
      }
      const store = await ctx.store();
      // Ctrl-C (or SIGTERM): the SYSPRO requests in flight are dropped, the session ping opened is
      // logged off, the checks not started are skipped, and it exits 130. A second one exits at once.
      const stop = new AbortController();
      const onSignal = () => {
        if (stop.signal.aborted) process.exit(130);
        stop.abort(new Error('interrupted'));
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      let failed = 0;
      let warned = 0;
      try {
        for (const connection of connections) {
          const results = await pingConnection({
            config: ctx.config,
            connection,
            store,
            masterKey: () => ctx.masterKey(false),
            env: app.env,
            clock: systemClock,
            timeoutMs: flags.timeout,
            signal: stop.signal,
          });
          for (const r of results) {
            if (r.verdict === 'fail' && r.kind !== 'interrupted') failed++;
            if (r.verdict === 'warn') warned++;
            app.out(flags.json ? JSON.stringify(r) : formatCheck(r));
          }
          if (stop.signal.aborted) break;
        }
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      if (stop.signal.aborted) {
        throw new UserError(
          'Interrupted: the checks not run are marked skip; a SYSPRO session ping had opened was logged off.',
          130,
        );
      }
      if (failed > 0) {
        throw new UserError(`${failed} check(s) failed; see the lines marked FAIL above.`);
      }
      // A warning (no publicUrl, no SHIP_NOTIFY subscription) does not fail the ping: the
      // connector works without webhooks by polling. It is said, not hidden.
      if (!flags.json)
        app.out(
          warned === 0
            ? 'All checks passed.'
            : `All required checks passed, with ${warned} warning(s); see the lines marked warn above.`,
        );
    });
}
