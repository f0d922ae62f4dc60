/**
 * Applies pending migrations (Kysely's Migrator keeps the applied list and a lock in
 * `kysely_migration*` tables, so two processes migrating at once do not collide).
 */
import { type Kysely, type Migration, Migrator } from 'kysely';
import { migrations } from './migrations/index.js';
import type { Store } from './open.js';

export interface MigrateResult {
  applied: string[];
  alreadyApplied: number;
}

function migratorFor(store: Store): Migrator {
  const db = store.db as unknown as Kysely<unknown>;
  const provider = {
    async getMigrations(): Promise<Record<string, Migration>> {
      return Object.fromEntries(
        migrations.map(([name, module]) => [
          name,
          { up: (d: Kysely<unknown>) => module.up(d, { dialect: store.dialect }) },
        ]),
      );
    },
  };
  return new Migrator({ db, provider });
}

/** Names of the migrations this code has that the store has not applied yet (for `/readyz`). */
export async function pendingMigrations(store: Store): Promise<string[]> {
  return (await migratorFor(store).getMigrations())
    .filter((m) => m.executedAt === undefined)
    .map((m) => m.name);
}

export async function migrateToLatest(store: Store): Promise<MigrateResult> {
  const migrator = migratorFor(store);
  const before = (await migrator.getMigrations()).filter((m) => m.executedAt !== undefined).length;
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed: ${(error as Error).message}`, { cause: error });
  }
  return {
    applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName),
    alreadyApplied: before,
  };
}
