// Prisma CLI configuration. The schema engine is served offline by prisma/engine/schema-engine-shim.mjs
// (see package.json scripts, which set PRISMA_SCHEMA_ENGINE_BINARY).
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/rolecall' },
});
