// Slack tokens at rest: sealed with AES-256-GCM (Node's built-in crypto, the OpenSSL implementation) under the key
// from SLACK_TOKEN_ENCRYPTION_KEY, with the workspace's team id as additional authenticated data, so a sealed token
// copied into another workspace's row does not open. Format: "v1.<iv>.<tag>.<ciphertext>" (base64url; 12-byte random
// IV, 16-byte tag; the cipher is agents/crypto/aead.ts, shared with encryption at rest). Invariant: a token is never stored or logged in clear; a seal that does not open (another key, a
// changed row) is TokenSealBroken, never a wrong token. Losing the key loses every sealed token: each workspace must
// then install the app again.
import { AEAD_KEY_BYTES, aeadOpen, aeadSeal } from '../../agents/crypto/aead';
import { RolecallError } from '../../agents/errors';

const VERSION = 'v1';
export const TOKEN_KEY_BYTES = AEAD_KEY_BYTES;

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
      const { iv, tag, ct } = aeadSeal(k, Buffer.from(token, 'utf8'), Buffer.from(teamId, 'utf8'));
      return [VERSION, iv.toString('base64url'), tag.toString('base64url'), ct.toString('base64url')].join('.');
    },
    open(teamId, sealed) {
      const [version, iv, tag, ct] = sealed.split('.');
      if (version !== VERSION || !iv || !tag || ct === undefined) throw new TokenSealBroken(teamId);
      try {
        return aeadOpen(k, { iv: Buffer.from(iv, 'base64url'), tag: Buffer.from(tag, 'base64url'), ct: Buffer.from(ct, 'base64url') }, Buffer.from(teamId, 'utf8')).toString('utf8');
      } catch (e) {
        throw new TokenSealBroken(teamId, { cause: e });
      }
    },
  };
}
