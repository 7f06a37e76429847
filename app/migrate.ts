// `npm run db:migrate`: applies prisma/migrations to the configured database (DATABASE_URL, or embedded PGlite).
import { ConfigError, loadConfig } from './config';
import { openDatabase } from '../orchestrator/db';
import { errorMessage } from '../agents/errors';

try {
  const config = loadConfig(process.env);
  const db = await openDatabase(config.database);
  const applied = await db.migrate();
  console.log(`${db.describe}: ${applied.length ? `applied ${applied.join(', ')}` : 'schema up to date'}`);
  await db.close();
} catch (e) {
  process.stderr.write(`${e instanceof ConfigError ? '' : 'Migration failed: '}${errorMessage(e)}\n`);
  process.exit(e instanceof ConfigError ? 2 : 1);
}
