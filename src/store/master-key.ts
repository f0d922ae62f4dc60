/**
 * The master key that encrypts credentials at rest: 32 bytes, from `ML_CONNECTOR_MASTER_KEY`
 * or from a key file that is created with mode 0600 (in a 0700 directory, when it creates it) on
 * first use.
 *
 * A key is exactly 32 bytes written as canonical base64 (44 characters with the `=` padding, the
 * output of `openssl rand -base64 32`: decoding and encoding again gives the same text) or as 64
 * hex digits. Anything else is refused, however many bytes Node's lenient base64 decoder would
 * get from it: a 43-character password decodes to 32 bytes but is no key.
 *
 * A key file that its group or others may read is used, with a warning (through `warn`), and its
 * mode is left alone: changing an operator's file behind their back hides the problem (the key
 * may already have been copied) and can break a deployment that shares the file on purpose.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
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

const HEX_KEY = /^[0-9a-fA-F]{64}$/;
const BASE64_KEY = /^[A-Za-z0-9+/]{43}=$/;

/** The 32-byte key written in `text` (surrounding white space ignored); `where` names its source. */
export function parseMasterKey(text: string, where: string): Buffer {
  const trimmed = text.trim();
  if (HEX_KEY.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (BASE64_KEY.test(trimmed)) {
    const key = Buffer.from(trimmed, 'base64');
    if (key.length === 32 && key.toString('base64') === trimmed) return key;
  }
  // The message describes the text's shape, never its content.
  throw new UserError(
    `The master key in ${where} is not a 256-bit key (it is ${trimmed.length} characters, not 44 characters of canonical base64 ` +
      'or 64 hex digits). Use 32 random bytes as base64, for example the output of `openssl rand -base64 32`, or as 64 hex digits ' +
      '(`openssl rand -hex 32`); a password is not a key.',
  );
}

export interface LoadMasterKeyOptions {
  env?: NodeJS.ProcessEnv;
  /** Key file path (config `masterKeyFile`), overridden by `ML_CONNECTOR_MASTER_KEY_FILE`. */
  file: string;
  /** Create the file when it does not exist (true for commands that write secrets). */
  create: boolean;
  /** Told when the key file may be read by its group or others (default: a process warning). */
  warn?: (message: string) => void;
}

/** The warning for a key file whose mode lets its group or others read or write it. */
export function keyFileModeWarning(file: string, mode: number): string | undefined {
  if ((mode & 0o077) === 0) return undefined;
  return (
    `The master key file ${file} has mode ${(mode & 0o777).toString(8).padStart(4, '0')}: its group or other users may read it. ` +
    `Restrict it with \`chmod 600 ${file}\` (and consider the key exposed if others could read it).`
  );
}

export function loadMasterKey(options: LoadMasterKeyOptions): MasterKey {
  const env = options.env ?? process.env;
  if (env.ML_CONNECTOR_MASTER_KEY) {
    const key = parseMasterKey(env.ML_CONNECTOR_MASTER_KEY, 'ML_CONNECTOR_MASTER_KEY');
    return { key, id: keyId(key), source: 'environment' };
  }
  const file = resolve(env.ML_CONNECTOR_MASTER_KEY_FILE ?? options.file);
  if (existsSync(file)) {
    const warning = keyFileModeWarning(file, statSync(file).mode);
    if (warning) (options.warn ?? ((m: string) => process.emitWarning(m)))(warning);
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
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  return { key, id: keyId(key), source: 'file' };
}
