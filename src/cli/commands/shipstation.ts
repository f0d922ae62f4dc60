/**
 * `ml-connector shipstation migrate-links --connection c --to v2 [--dry-run]`: moves a connection's
 * links to another ShipStation API without re-creating orders (see `sync/migrate-links.ts`).
 */
import type { Command } from 'commander';
import { UserError } from '../../config/errors.js';
import { databaseClock } from '../../store/db-clock.js';
import { openConnectionClients } from '../../sync/connection-clients.js';
import { migrateLinks } from '../../sync/migrate-links.js';
import { oneConnection } from '../connections.js';
import type { Program } from '../program.js';

export function registerShipStation(program: Command, app: Program): void {
  const group = program
    .command('shipstation')
    .description('ShipStation API housekeeping (subcommand: migrate-links)');
  group
    .command('migrate-links')
    .description(
      "move a connection's links to another ShipStation API (V1 orderId N is V2 shipment se-N): checks each open order on the target, then records the API",
    )
    .option('--connection <name>', 'the connection (needed when several are configured)')
    .requiredOption('--to <api>', 'the API to move to: v1 or v2')
    .option('--dry-run', 'check and report only; record nothing')
    .option('--json', 'the report as one JSON object')
    .action(async (flags: { connection?: string; to: string; dryRun?: boolean; json?: boolean }) => {
      if (flags.to !== 'v1' && flags.to !== 'v2') {
        throw new UserError(`--to must be v1 or v2, got "${flags.to}".`);
      }
      const ctx = app.context();
      const connection = oneConnection(ctx.config, flags.connection);
      if (flags.to === 'v2' && !connection.shipstation.v2ApiKey) {
        throw new UserError(
          `Connection ${connection.name} has no shipstation.v2ApiKey: add it (and store the key with \`ml-connector creds set ${connection.name} shipstation.v2ApiKey\`) before moving to V2.`,
        );
      }
      const store = await ctx.store();
      const clock = databaseClock(store);
      await clock.ready();
      const clients = await openConnectionClients({
        connection: { ...connection, shipstation: { ...connection.shipstation, api: flags.to } },
        store,
        masterKey: () => ctx.masterKey(false),
        env: app.env,
        clock,
      });
      try {
        const report = await migrateLinks({
          store,
          clock,
          connection: connection.name,
          target: clients.shipstationApi,
          dryRun: flags.dryRun,
        });
        if (flags.json) {
          app.out(JSON.stringify(report));
        } else {
          app.out(
            `${connection.name}: links ${report.from} → ${report.to}${report.dryRun ? ' (dry run: nothing recorded)' : ''}`,
          );
          app.out(
            `  open orders checked: ${report.checked}; found with our key: ${report.ok}; missing: ${report.missing.length}; another key: ${report.mismatched.length}; never linked: ${report.unlinked}`,
          );
          for (const key of report.missing.slice(0, 20))
            app.out(`  missing on ${report.to}: ${key} (the next push creates it again)`);
          for (const m of report.mismatched.slice(0, 20)) {
            app.out(`  id ${m.id} on ${report.to} is ${m.foundKey}, not ${m.orderKey} (never updated)`);
          }
          if (!report.dryRun && connection.shipstation.api !== report.to) {
            app.out(`  now set shipstation.api: ${report.to} for ${connection.name} in the configuration.`);
          }
        }
      } finally {
        await clients.close();
      }
    });
}
