import type { Command } from 'commander';
import { migrateToLatest } from '../../store/migrate.js';
import { openConfiguredStore } from '../../store/open.js';
import type { Program } from '../program.js';

export function registerMigrate(program: Command, app: Program): void {
  program
    .command('migrate')
    .description('create or upgrade the store (SQLite file or PostgreSQL database); safe to run again')
    .action(async () => {
      const ctx = app.context();
      const store = openConfiguredStore(ctx.config.store, app.env);
      if (ctx.configFile === undefined)
        app.err(`Note: no configuration file found; using the default store ${store.displayUrl}.`);
      try {
        const result = await migrateToLatest(store);
        if (result.applied.length === 0) {
          app.out(
            `Store ${store.displayUrl} is up to date (${result.alreadyApplied} migrations applied earlier).`,
          );
        } else {
          app.out(`Store ${store.displayUrl}: applied ${result.applied.join(', ')}.`);
        }
      } finally {
        await store.close();
      }
    });
}
