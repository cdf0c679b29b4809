// The payload keyring: AES-256 keys by id, from configuration (PAYLOAD_KEYS = `id:base64key,…`). The first key
// encrypts; every key decrypts, so a key is rotated by putting a new one first and keeping the old ones for as long as
// histories (and webhook secrets) encrypted with them are kept.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export const KEY_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface KeyEntry {
  id: string;
  /** base64 of 32 bytes */
  key: string;
}

export class UnknownKeyError extends Error {}

export class Keyring {
  private readonly keys = new Map<string, Buffer>();
  /** The id of the key that encrypts; undefined when the ring is empty (nothing is encrypted). */
  readonly currentId: string | undefined;

  constructor(entries: readonly KeyEntry[]) {
    for (const { id, key } of entries) {
      const bytes = Buffer.from(key, 'base64');
      if (!KEY_ID.test(id)) throw new Error(`payload key id ${JSON.stringify(id)} must match ${KEY_ID}`);
      if (bytes.length !== 32) throw new Error(`payload key ${id} must be 32 bytes (base64), not ${bytes.length}`);
      if (this.keys.has(id)) throw new Error(`payload key id ${id} appears twice`);
      this.keys.set(id, bytes);
    }
    this.currentId = entries[0]?.id;
  }

  get empty(): boolean {
    return this.currentId === undefined;
  }

  /** iv ‖ ciphertext ‖ tag under the current key, the key id bound in as associated data. */
  seal(plain: Uint8Array): { keyId: string; sealed: Buffer } {
    if (!this.currentId) throw new Error('no payload key configured');
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentId)!, iv);
    cipher.setAAD(Buffer.from(this.currentId));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return { keyId: this.currentId, sealed: Buffer.concat([iv, body, cipher.getAuthTag()]) };
  }

  open(keyId: string, sealed: Uint8Array): Buffer {
    const key = this.keys.get(keyId);
    if (!key) throw new UnknownKeyError(`no payload key with id ${keyId} (keep retired keys in PAYLOAD_KEYS to read older data)`);
    const data = Buffer.from(sealed);
    if (data.length < IV_BYTES + TAG_BYTES) throw new Error('encrypted data is too short');
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(keyId));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    return Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
  }
}

/** A fresh `id:base64key` entry (scripts and tests generate their keys this way). */
export function newKeyEntry(id: string): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}

const SEALED_TEXT = /^enc:v1:([A-Za-z0-9_.-]{1,64}):([A-Za-z0-9+/=]+)$/;

/** A secret for a database column: `enc:v1:<key id>:<base64 sealed>` (an empty ring keeps it as it is). */
export function sealText(keyring: Keyring, plain: string): string {
  if (keyring.empty) return plain;
  const { keyId, sealed } = keyring.seal(Buffer.from(plain));
  return `enc:v1:${keyId}:${sealed.toString('base64')}`;
}

/** The secret a column holds: opened when sealed, as it is when written before encryption. */
export function openText(keyring: Keyring, stored: string): string {
  const m = stored.match(SEALED_TEXT);
  return m ? keyring.open(m[1], Buffer.from(m[2], 'base64')).toString() : stored;
}

export const isSealedText = (stored: string) => SEALED_TEXT.test(stored);
