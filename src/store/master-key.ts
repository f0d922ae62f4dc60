/**
 * The master key that encrypts credentials at rest: 32 bytes, from `ML_CONNECTOR_MASTER_KEY`
 * (base64 or 64 hex characters) or from a key file that is created with mode 0600 on first use.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UserError } from '../config/errors.js';

export interface MasterKey {
  key: Buffer;
  /** Short fingerprint stored beside each record (never the key itself). */
  id: string;
  source: 'environment' | 'file';
}

export function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

export function parseMasterKey(text: string, where: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) {
    throw new UserError(
      `The master key in ${where} is not a 256-bit key (got ${key.length} bytes). Use 32 random bytes as base64 ` +
        '(for example the output of `openssl rand -base64 32`) or 64 hex characters.',
    );
  }
  return key;
}

export interface LoadMasterKeyOptions {
  env?: NodeJS.ProcessEnv;
  /** Key file path (config `masterKeyFile`), overridden by `ML_CONNECTOR_MASTER_KEY_FILE`. */
  file: string;
  /** Create the file when it does not exist (true for commands that write secrets). */
  create: boolean;
}

export function loadMasterKey(options: LoadMasterKeyOptions): MasterKey {
  const env = options.env ?? process.env;
  if (env.ML_CONNECTOR_MASTER_KEY) {
    const key = parseMasterKey(env.ML_CONNECTOR_MASTER_KEY, 'ML_CONNECTOR_MASTER_KEY');
    return { key, id: keyId(key), source: 'environment' };
  }
  const file = resolve(env.ML_CONNECTOR_MASTER_KEY_FILE ?? options.file);
  if (existsSync(file)) {
    const mode = statSync(file).mode & 0o777;
    if (mode & 0o077) chmodSync(file, 0o600);
    const key = parseMasterKey(readFileSync(file, 'utf8'), file);
    return { key, id: keyId(key), source: 'file' };
  }
  if (!options.create) {
    throw new UserError(
      `No master key: ML_CONNECTOR_MASTER_KEY is not set and the key file ${file} does not exist. ` +
        'Set ML_CONNECTOR_MASTER_KEY to the key your credentials were stored with, or store them again with `ml-connector creds set` (which creates the key file).',
    );
  }
  const key = randomBytes(32);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  return { key, id: keyId(key), source: 'file' };
}
