/**
 * `ml-connector dashboard hash-password`: reads a password (or an API token) from standard input,
 * never from the command line, and prints its scrypt hash for `dashboard.passwordHash` or an
 * `apiTokens` entry. `dashboard new-token` prints a random token and its hash.
 */
import type { Command } from 'commander';
import { UserError } from '../../config/errors.js';
import { generateSecret, hashSecret } from '../../http/auth.js';
import type { Program } from '../program.js';

export function registerDashboard(program: Command, app: Program): void {
  const dashboard = program
    .command('dashboard')
    .description('the dashboard and operator API: password and token hashes');
  dashboard
    .command('hash-password')
    .description(
      'print the hash of a password or token read from standard input (for dashboard.passwordHash or apiTokens)',
    )
    .action(async () => {
      const value = (await app.readStdin()).replace(/\r?\n$/, '');
      if (value.length < 12)
        throw new UserError(
          'Expected a password of at least 12 characters on standard input, e.g. `printf \'%s\' "$PASSWORD" | ml-connector dashboard hash-password`.',
        );
      app.out(await hashSecret(value));
    });
  dashboard
    .command('new-token')
    .description(
      'print a new random API token and its hash (put the hash in dashboard.apiTokens, give the token to the script)',
    )
    .action(async () => {
      const token = generateSecret(24);
      app.out(`token: ${token}`);
      app.out(`hash:  ${await hashSecret(token)}`);
    });
}
