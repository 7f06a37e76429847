// `npm run encryption -- <status|rotate|backfill>`: encryption at rest (issue 18, orchestrator/privacy/at-rest.ts).
// status: the master key in use and the data keys by master key; rotate: re-wraps every data key under
// ENCRYPTION_MASTER_KEY (the previous key in ENCRYPTION_MASTER_KEY_PREVIOUS), audited as encryption.key_rotated;
// backfill: seals clear rows written before encryption was on, in batches, until none is left.
// Invariant: runs beside running servers and workers (no downtime): every write is conditional on the row as read.
import { z } from 'zod';
import { ConfigError, loadConfig } from './config';
import { openDatabase } from '../orchestrator/db';
import { atRest, envKeyWrapper, KeyRing } from '../orchestrator/privacy/at-rest';
import { errorMessage } from '../agents/errors';

const command = z.enum(['status', 'rotate', 'backfill']);

try {
  const parsed = command.safeParse(process.argv[2] ?? 'status');
  if (!parsed.success) throw new ConfigError('usage: npm run encryption -- status | rotate | backfill');
  const config = loadConfig(process.env);
  if (!config.encryption) throw new ConfigError('ENCRYPTION_MASTER_KEY: is required (encryption at rest is off without it)');
  const ring = new KeyRing(envKeyWrapper(config.encryption.masterKey, config.encryption.previous));
  const db = await openDatabase(config.database, ring);
  try {
    const a = atRest(db.prisma, ring);
    if (parsed.data === 'rotate') {
      const r = await a.rotate('system:cli');
      console.log(`re-wrapped ${r.rewrapped} data key(s) from ${r.from.join(', ') || '(none)'} to master key ${r.to}; ${r.alreadyCurrent} already under it. Remove ENCRYPTION_MASTER_KEY_PREVIOUS once every process runs with the new key.`);
    } else if (parsed.data === 'backfill') {
      let total = 0;
      for (;;) {
        const counts = await a.backfill(500);
        const n = Object.values(counts).reduce((x, y) => x + y, 0);
        total += n;
        if (n === 0) break;
        console.log(JSON.stringify(counts));
      }
      console.log(`sealed ${total} clear value(s)`);
    } else {
      const { keys } = await a.check();
      const by = await db.prisma.dataKey.groupBy({ by: ['masterKeyId'], _count: { _all: true } });
      console.log(`master key ${ring.wrapper!.masterKeyId}; ${keys} data key(s): ${by.map((b) => `${b._count._all} under ${b.masterKeyId}`).join(', ') || 'none yet'}`);
    }
  } finally {
    await db.close();
  }
} catch (e) {
  process.stderr.write(`${e instanceof ConfigError ? '' : 'Encryption command failed: '}${errorMessage(e)}\n`);
  process.exit(e instanceof ConfigError ? 2 : 1);
}
