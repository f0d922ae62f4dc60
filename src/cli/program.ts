/**
 * Builds the commander program. Each command lives in `commands/<name>.ts` and registers itself;
 * a `UserError` thrown anywhere becomes one paragraph on stderr and a non-zero exit, no stack.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { UserError } from '../config/errors.js';
import { registerBackfill } from './commands/backfill.js';
import { registerConfig } from './commands/config.js';
import { registerCreds } from './commands/creds.js';
import { registerDashboard } from './commands/dashboard.js';
import { registerJobs } from './commands/jobs.js';
import { registerMigrate } from './commands/migrate.js';
import { registerOrders } from './commands/orders.js';
import { registerPing } from './commands/ping.js';
import { registerReplay } from './commands/replay.js';
import { registerRun } from './commands/run.js';
import { registerSandbox } from './commands/sandbox.js';
import { registerShipments } from './commands/shipments.js';
import { registerShipStation } from './commands/shipstation.js';
import { registerStart } from './commands/start.js';
import { registerSync } from './commands/sync.js';
import { registerWebhooks } from './commands/webhooks.js';
import { type CommandContext, createContext } from './context.js';
import { USAGE_EXIT_CODE } from './options.js';
import { releaseLoadSignals } from './start-signals.js';

export interface ProgramIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  readStdin: () => Promise<string>;
  env: NodeJS.ProcessEnv;
}

export interface Program {
  context(): CommandContext;
  out(line: string): void;
  err(line: string): void;
  readStdin(): Promise<string>;
  env: NodeJS.ProcessEnv;
}

/** The version in package.json (read once; the bin runs from the checkout or the installed package). */
function packageVersion(): string {
  try {
    const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
    return (JSON.parse(text) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

type Registrar = (program: Command, app: Program) => void;

/** Commands in the order `--help` lists them. Add a command by adding its registrar here. */
const COMMANDS: Registrar[] = [
  registerStart,
  registerRun,
  registerSync,
  registerBackfill,
  registerOrders,
  registerShipments,
  registerSandbox,
  registerPing,
  registerMigrate,
  registerCreds,
  registerConfig,
  registerJobs,
  registerReplay,
  registerWebhooks,
  registerDashboard,
  registerShipStation,
];

export function buildProgram(io: ProgramIo): {
  program: Command;
  app: Program;
  cleanup: () => Promise<void>;
} {
  const program = new Command('ml-connector');
  let ctx: CommandContext | undefined;
  const app: Program = {
    context() {
      ctx ??= createContext(program.opts<{ config?: string; init?: boolean }>(), io.env, (m) =>
        io.stderr(`Warning: ${m}`),
      );
      return ctx;
    },
    out: io.stdout,
    err: io.stderr,
    readStdin: io.readStdin,
    env: io.env,
  };
  program
    .description('Keeps SYSPRO sales orders and ShipStation orders and shipments in sync.')
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .option(
      '-c, --config <file>',
      'configuration file (default: $ML_CONNECTOR_CONFIG or ./ml-connector.yaml)',
    )
    .option(
      '--init',
      'start a new installation: create the store and master key even without a configuration file',
    )
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s.trimEnd()), writeErr: (s) => io.stderr(s.trimEnd()) });
  for (const register of COMMANDS) register(program, app);
  // A signal the bin kept while the modules loaded: `run` and `start` take it over as they start
  // (holdSignalsDuringStart); any other command gets it back now, before its own handlers exist.
  program.hook('preAction', (_program, action) => {
    if (!(action.parent === program && SERVICE_COMMANDS.has(action.name()))) releaseLoadSignals();
  });
  return { program, app, cleanup: async () => ctx?.close() };
}

/** The commands that run the service until a signal, and take over a signal kept while loading. */
const SERVICE_COMMANDS = new Set(['run', 'start']);

export async function runProgram(argv: string[], io: ProgramIo): Promise<number> {
  const { program, cleanup } = buildProgram(io);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    // Help and --version exit 0; every other commander error is a usage error (bad flag or value).
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : USAGE_EXIT_CODE;
    if (err instanceof UserError) {
      io.stderr(`Error: ${err.message}`);
      return err.exitCode;
    }
    io.stderr(
      `Unexpected error: ${(err as Error).message ?? String(err)}. Run again with LOG_LEVEL=debug for details and report it.`,
    );
    if (io.env.LOG_LEVEL === 'debug' || io.env.LOG_LEVEL === 'trace') io.stderr(String((err as Error).stack));
    return 1;
  } finally {
    releaseLoadSignals();
    await cleanup().catch(() => {});
  }
}
