// Slack tokens at rest: sealed with AES-256-GCM (Node's built-in crypto, the OpenSSL implementation) under the key
// from SLACK_TOKEN_ENCRYPTION_KEY, with the workspace's team id as additional authenticated data, so a sealed token
// copied into another workspace's row does not open. Format: "v1.<iv>.<tag>.<ciphertext>" (base64url; 12-byte random
// IV, 16-byte tag). Invariant: a token is never stored or logged in clear; a seal that does not open (another key, a
// changed row) is TokenSealBroken, never a wrong token. Losing the key loses every sealed token: each workspace must
// then install the app again.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { RolecallError } from '../../agents/errors';

const VERSION = 'v1';
export const TOKEN_KEY_BYTES = 32;

/** A sealed token that does not open with this key (wrong key, or the ciphertext or its team id changed). */
export class TokenSealBroken extends RolecallError {
  constructor(readonly teamId: string, options?: ErrorOptions) {
    super(`the stored Slack token of workspace ${teamId} does not open with SLACK_TOKEN_ENCRYPTION_KEY (another key, or a changed row): install the app to that workspace again`, options);
  }
}

export interface TokenSeal {
  seal(teamId: string, token: string): string;
  open(teamId: string, sealed: string): string;
}

export function tokenSeal(key: Uint8Array): TokenSeal {
  if (key.length !== TOKEN_KEY_BYTES) throw new RangeError(`the token key must be ${TOKEN_KEY_BYTES} bytes`);
  const k = Buffer.from(key);
  return {
    seal(teamId, token) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', k, iv);
      cipher.setAAD(Buffer.from(teamId, 'utf8'));
      const ct = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
      return [VERSION, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
    },
    open(teamId, sealed) {
      const [version, iv, tag, ct] = sealed.split('.');
      if (version !== VERSION || !iv || !tag || ct === undefined) throw new TokenSealBroken(teamId);
      try {
        const decipher = createDecipheriv('aes-256-gcm', k, Buffer.from(iv, 'base64url'));
        decipher.setAAD(Buffer.from(teamId, 'utf8'));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
      } catch (e) {
        throw new TokenSealBroken(teamId, { cause: e });
      }
    },
  };
}
