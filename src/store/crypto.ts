/**
 * AES-256-GCM sealing of one secret value. Each record gets its own random 96-bit nonce; the
 * connection and secret name are bound as additional authenticated data, so a record copied to
 * another name fails to open just like a tampered one.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { UserError } from '../config/errors.js';
import type { MasterKey } from './master-key.js';

export interface SealedSecret {
  nonce: string;
  ciphertext: string;
  tag: string;
  key_id: string;
}

function aad(connection: string, name: string): Buffer {
  return Buffer.from(`ml-connector:${connection}:${name}`, 'utf8');
}

export function sealSecret(
  master: MasterKey,
  connection: string,
  name: string,
  plaintext: string,
): SealedSecret {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', master.key, nonce);
  cipher.setAAD(aad(connection, name));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return {
    nonce: nonce.toString('base64'),
    ciphertext: ciphertext.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    key_id: master.id,
  };
}

export function openSecret(
  master: MasterKey,
  connection: string,
  name: string,
  sealed: SealedSecret,
): string {
  if (sealed.key_id !== master.id) {
    throw new UserError(
      `The credential "${name}" of connection "${connection}" was stored with a different master key (key ${sealed.key_id}, ` +
        `this one is ${master.id}). Set ML_CONNECTOR_MASTER_KEY (or the key file) to the key used when it was stored, ` +
        `or store the credential again with \`ml-connector creds set ${connection} ${name}\`.`,
    );
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', master.key, Buffer.from(sealed.nonce, 'base64'));
    decipher.setAAD(aad(connection, name));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    return Buffer.concat([
      decipher.update(Buffer.from(sealed.ciphertext, 'base64')),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    throw new UserError(
      `The stored credential "${name}" of connection "${connection}" failed its integrity check: the record was changed ` +
        `or damaged. Store it again with \`ml-connector creds set ${connection} ${name}\`.`,
    );
  }
}
