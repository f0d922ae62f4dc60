import type { Command } from 'commander';
import { UserError } from '../../config/errors.js';
import { appendAudit } from '../../store/audit.js';
import { loadMasterKey } from '../../store/master-key.js';
import {
  deleteSecret,
  findForeignKeyRows,
  listSecrets,
  putSecret,
  rekeySecrets,
} from '../../store/secrets.js';
import type { Program } from '../program.js';

const NAME = /^[A-Za-z0-9_.-]+$/;

export function registerCreds(program: Command, app: Program): void {
  const creds = program
    .command('creds')
    .description('store and list encrypted credentials (values are never shown)');

  creds
    .command('set')
    .description('store a credential; the value is read from standard input, never from the command line')
    .argument('<connection>', 'connection name, e.g. main')
    .argument('<name>', 'credential name as referenced in the config, e.g. shipstation.apiSecret')
    .action(async (connection: string, name: string) => {
      if (!NAME.test(connection) || !NAME.test(name)) {
        throw new UserError(
          'Connection and credential names may use letters, digits, ".", "_" and "-" only.',
        );
      }
      const value = await app.readStdin();
      if (value === '') {
        throw new UserError(
          `No value on standard input for "${name}". Pipe it in, e.g. \`printf '%s' "$VALUE" | ml-connector creds set ${connection} ${name}\`, or type it and press Ctrl-D.`,
        );
      }
      const ctx = app.context();
      const master = ctx.masterKey(true);
      const store = await ctx.store();
      const foreign = await findForeignKeyRows(store.db, master);
      if (foreign) {
        throw new UserError(
          `Not stored: ${foreign.count} credential(s) in ${store.displayUrl} were stored with another master key (key ${foreign.keyIds.join(', ')}), ` +
            `not this one (key ${master.id}, from ${master.source === 'environment' ? 'ML_CONNECTOR_MASTER_KEY' : 'the key file'}). ` +
            'Use the key they were stored with, or move them all to this key with `ml-connector creds rekey`.',
        );
      }
      await putSecret(store.db, master, connection, name, value);
      await appendAudit(store.db, {
        connection,
        flow: 'creds',
        entityType: 'secret',
        entityKey: name,
        action: 'set',
        outcome: 'ok',
      });
      app.out(`Stored ${name} for connection ${connection} (encrypted with key ${master.id}).`);
    });

  creds
    .command('list')
    .description('list stored credentials: connection, name and when they changed')
    .argument('[connection]', 'only this connection')
    .action(async (connection?: string) => {
      const store = await app.context().store();
      const rows = await listSecrets(store.db, connection);
      if (rows.length === 0) {
        app.out('No credentials stored.');
        return;
      }
      app.out(['CONNECTION', 'NAME', 'UPDATED'].join('\t'));
      for (const r of rows) app.out([r.connection, r.name, r.updatedAt.toISOString()].join('\t'));
    });

  creds
    .command('delete')
    .description('remove a stored credential')
    .argument('<connection>')
    .argument('<name>')
    .action(async (connection: string, name: string) => {
      const store = await app.context().store();
      const removed = await deleteSecret(store.db, connection, name);
      if (!removed) throw new UserError(`No credential "${name}" is stored for connection "${connection}".`);
      await appendAudit(store.db, {
        connection,
        flow: 'creds',
        entityType: 'secret',
        entityKey: name,
        action: 'delete',
        outcome: 'ok',
      });
      app.out(`Deleted ${name} for connection ${connection}.`);
    });

  creds
    .command('rekey')
    .description(
      're-encrypt every stored credential under a new master key (the current key opens them; nothing changes if one does not open)',
    )
    .requiredOption(
      '--new-key-file <file>',
      'the new key: a key file (created, mode 0600, with a fresh random key when it does not exist)',
    )
    .action(async (options: { newKeyFile: string }) => {
      const ctx = app.context();
      const from = ctx.masterKey(false);
      const to = loadMasterKey({
        env: {},
        file: options.newKeyFile,
        create: true,
        warn: (m) => app.err(`Warning: ${m}`),
      });
      if (to.id === from.id)
        throw new UserError(
          `The new key in ${options.newKeyFile} is the current key (key ${from.id}); nothing to do.`,
        );
      const store = await ctx.store();
      const count = await rekeySecrets(store, from, to);
      await appendAudit(store.db, {
        connection: '-',
        flow: 'creds',
        entityType: 'secret',
        entityKey: '*',
        action: 'rekey',
        outcome: 'ok',
      });
      app.out(
        `Re-encrypted ${count} credential(s) from key ${from.id} to key ${to.id}. From now on use ${options.newKeyFile}: ` +
          'set masterKeyFile (or ML_CONNECTOR_MASTER_KEY_FILE) to it, or put its content in ML_CONNECTOR_MASTER_KEY; keep the old key until you have checked.',
      );
    });
}
