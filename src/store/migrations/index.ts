/**
 * The numbered migrations, in order. Append new ones at the end with the next number;
 * never change or remove one that has shipped.
 */
import type { Kysely } from 'kysely';
import type { Dialect } from '../open.js';
import * as m0001 from './0001-initial.js';
import * as m0002 from './0002-engine.js';
import * as m0003 from './0003-lost-leases.js';
import * as m0004 from './0004-in-doubt.js';
import * as m0005 from './0005-follow-up-jobs.js';
import * as m0006 from './0006-link-state.js';
import * as m0007 from './0007-dismissals.js';
import * as m0008 from './0008-webhook-inbox.js';

export interface MigrationContext {
  dialect: Dialect;
}

export interface MigrationModule {
  up(db: Kysely<unknown>, context: MigrationContext): Promise<void>;
}

export const migrations: Array<[name: string, module: MigrationModule]> = [
  ['0001-initial', m0001],
  ['0002-engine', m0002],
  ['0003-lost-leases', m0003],
  ['0004-in-doubt', m0004],
  ['0005-follow-up-jobs', m0005],
  ['0006-link-state', m0006],
  ['0007-dismissals', m0007],
  ['0008-webhook-inbox', m0008],
];
