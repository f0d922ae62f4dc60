import type { Command } from 'commander';
import { sql } from 'kysely';
import { UserError } from '../../config/errors.js';
import { migrateToLatest } from '../../store/migrate.js';
import { openConfiguredStore } from '../../store/open.js';
import { describeStoreError } from '../../store/store-errors.js';
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
        const result = await migrateToLatest(store).catch((err: unknown) => {
          throw describeStoreError(err, store.displayUrl) ?? err;
        });
        // "Up to date" is said of a sound database only: check every page of a SQLite file.
        if (store.dialect === 'sqlite') {
          const problems = await sql<{ quick_check: string }>`PRAGMA quick_check`
            .execute(store.db)
            .then((r) => r.rows.map((row) => Object.values(row)[0] as string))
            .catch((err: unknown) => {
              throw describeStoreError(err, store.displayUrl) ?? err;
            });
          if (problems.length !== 1 || problems[0] !== 'ok') {
            throw new UserError(
              `The SQLite store ${store.displayUrl} is damaged: ${problems.slice(0, 3).join('; ')}. ` +
                'Stop the service, restore the file from a backup, or move it aside and run `ml-connector migrate` to start an empty store.',
            );
          }
        }
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
