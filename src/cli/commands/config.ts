import type { Command } from 'commander';
import { UserError } from '../../config/errors.js';
import { INSECURE_HTTP_ADVICE, insecureHttpProblems } from '../../config/insecure-http.js';
import { maskUrl, resolveStorePassword, storeSecretEnvName, urlHasPassword } from '../../store/open.js';
import { secretReferences } from '../../store/secret-refs.js';
import { resolveSecret, secretEnvName } from '../../store/secrets.js';
import type { Program } from '../program.js';

export function registerConfig(program: Command, app: Program): void {
  const config = program.command('config').description('inspect the configuration');
  config
    .command('check')
    .description('validate the configuration and check that every referenced secret can be read')
    .action(async () => {
      const ctx = app.context();
      app.out(`Configuration: ${ctx.configFile ?? '(no file; defaults and environment only)'}`);
      app.out(`Store: ${maskUrl(ctx.config.store.url)}`);
      const storePassword = describeStorePassword(ctx.config.store, app.env);
      if (storePassword) app.out(`Store password: ${storePassword}`);
      if (ctx.config.connections.length === 0) {
        app.out('No connections configured. Add one under "connections:" (see README.md, "Configuration").');
        return;
      }
      const store = await ctx.store();
      const problems: string[] = [];
      let warnings = 0;
      for (const connection of ctx.config.connections) {
        app.out(`Connection ${connection.name}:`);
        // Passwords in clear text: a warning here (the configuration is valid); `run` refuses it
        // unless syspro.allowInsecureHttp is true.
        for (const problem of insecureHttpProblems(connection)) {
          warnings++;
          app.out(
            connection.syspro.allowInsecureHttp
              ? `  warning: ${problem} (allowed by syspro.allowInsecureHttp)`
              : `  warning: ${problem}; \`run\` refuses this connection: ${INSECURE_HTTP_ADVICE}`,
          );
        }
        for (const use of secretReferences(connection)) {
          try {
            await resolveSecret(store.db, () => ctx.masterKey(false), connection.name, use.name, app.env);
            const source = app.env[secretEnvName(connection.name, use.name)]
              ? 'environment'
              : 'encrypted store';
            app.out(`  ${use.field}: secret "${use.name}" is set (${source})`);
          } catch (err) {
            if (!(err instanceof UserError)) throw err;
            app.out(`  ${use.field}: secret "${use.name}" cannot be read`);
            problems.push(err.message);
          }
        }
      }
      if (problems.length > 0) throw new UserError(problems.join(' '));
      app.out(
        warnings === 0
          ? 'Configuration is valid and every secret can be read.'
          : `Configuration is valid and every secret can be read, with ${warnings} warning(s) above.`,
      );
    });
}

/**
 * Where the store password comes from, never the password itself; throws the UserError of
 * resolveStorePassword when `store.password` names a variable that is not set.
 */
function describeStorePassword(
  store: Parameters<typeof resolveStorePassword>[0],
  env: NodeJS.ProcessEnv,
): string | undefined {
  const password = resolveStorePassword(store, env);
  if (store.password) {
    return `secret "${store.password.secret}" from the environment (${storeSecretEnvName(store.password.secret)})`;
  }
  if (password !== undefined) return 'from the environment (PGPASSWORD)';
  if (urlHasPassword(store.url)) return 'in store.url (prefer store.password: secret:store.password)';
  return undefined;
}
