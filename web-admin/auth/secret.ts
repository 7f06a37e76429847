// The session signing key: ADMIN_SESSION_SECRET, or one generated at first start and kept in DATA_DIR.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../orchestrator/log';

export function resolveSessionSecret(configured: string | undefined, dataDir: string, log: Logger): string {
  if (configured) return configured;
  const file = path.join(dataDir, 'admin-session-secret');
  if (existsSync(file)) {
    log.info(`Admin console: session secret from ${file} (set ADMIN_SESSION_SECRET to choose one)`);
    return readFileSync(file, 'utf8').trim();
  }
  const secret = randomBytes(48).toString('base64url');
  mkdirSync(dataDir, { recursive: true });
  try {
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return readFileSync(file, 'utf8').trim(); // another process started at the same moment and wrote it first
  }
  log.warn(`Admin console: ADMIN_SESSION_SECRET is not set; generated one and saved it in ${file}. Every server must share it: set ADMIN_SESSION_SECRET when you run more than one.`);
  return secret;
}
