// The one authenticated-encryption primitive of Rolecall: AES-256-GCM from node:crypto (OpenSSL), a fresh random
// 12-byte IV per message, a 16-byte tag, and additional authenticated data that binds a ciphertext to where it belongs.
// Used by the Slack token seal (bot/slack/token-seal.ts) and by encryption at rest (orchestrator/privacy/at-rest.ts).
// Invariant: open() returns the exact bytes sealed under the same key and AAD, or throws AeadOpenFailed — never other
// bytes; the packed form is iv | tag | ciphertext.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { RolecallError } from '../errors';

export const AEAD_KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A ciphertext that does not open: another key, another AAD, a changed byte, or not a ciphertext at all. */
export class AeadOpenFailed extends RolecallError {}

export interface Sealed {
  iv: Buffer;
  tag: Buffer;
  ct: Buffer;
}

const checkKey = (key: Uint8Array) => {
  if (key.length !== AEAD_KEY_BYTES) throw new RangeError(`an AES-256-GCM key must be ${AEAD_KEY_BYTES} bytes`);
};

export function aeadSeal(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Sealed {
  checkKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, tag: cipher.getAuthTag(), ct };
}

export function aeadOpen(key: Uint8Array, sealed: Sealed, aad: Uint8Array): Buffer {
  checkKey(key);
  if (sealed.iv.length !== IV_BYTES || sealed.tag.length !== TAG_BYTES) throw new AeadOpenFailed('not an AES-256-GCM ciphertext');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.iv);
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.tag);
    return Buffer.concat([decipher.update(sealed.ct), decipher.final()]);
  } catch (e) {
    throw new AeadOpenFailed('the ciphertext does not open with this key', { cause: e });
  }
}

/** iv | tag | ciphertext in one buffer. */
export const pack = (s: Sealed): Buffer => Buffer.concat([s.iv, s.tag, s.ct]);

export function unpack(b: Uint8Array): Sealed {
  if (b.length < IV_BYTES + TAG_BYTES) throw new AeadOpenFailed('too short for an AES-256-GCM ciphertext');
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  return { iv: buf.subarray(0, IV_BYTES), tag: buf.subarray(IV_BYTES, IV_BYTES + TAG_BYTES), ct: buf.subarray(IV_BYTES + TAG_BYTES) };
}
