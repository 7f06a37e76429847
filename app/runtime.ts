// Composition root: builds every component from the parsed config and starts the HTTP server and/or the workers.
import { createAdaptorServer, type ServerType } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { createLlmRouter } from '../agents/llm/router';
import type { ApiKeyStore } from '../agents/mcp/api-keys';
import { createHostPolicy } from '../agents/mcp/hosts';
import { mcpRoutes } from '../agents/mcp/http';
import { stepToolRunner, type ToolDeps } from '../agents/mcp/tools';
import { createRoleRegistry } from '../agents/mcp/registry';
import { loadRoles } from '../agents/roles';
import { slackRoutes } from '../bot/slack/app';
import { slackChat, slackWebClient } from '../bot/slack/chat';
import { slackFiles } from '../bot/slack/files';
import { FileParserPool } from '../agents/files/pool';
import { S3FileStore } from '../agents/files/s3-store';
import { LocalFileStore, type FileStore } from '../agents/files/store';
import type { FilesDeps } from '../orchestrator/files';
import { createTeams, type TeamsEdge } from '../bot/teams';
import { createHttpRoot } from './http';
import { createOrchestrator } from '../orchestrator/api';
import { adminConsole, type AdminExtras } from './admin';
import type { ChatPorts } from '../orchestrator/chat';
import type { Config } from './config';
import { openDatabase, type Database, type Db } from '../orchestrator/db';
import type { EngineDeps } from '../orchestrator/deps';
import { startEmbeddedRedis, type EmbeddedRedis } from '../orchestrator/embedded-redis';
import { createJobHandler } from '../orchestrator/handler';
import type { Logger } from '../orchestrator/log';
import { createJobQueue, createJobWorker, producerConnection, redisConnection } from '../orchestrator/queue';
import { durableQueue, startInboxRelay } from '../orchestrator/inbox';
import { startMetricCounterFold } from '../orchestrator/metric-counters';
import { artifactStore, usageLog, violationLog } from '../orchestrator/stores';
import { buildPlanner } from './planner';
import { loadTemplates } from '../orchestrator/templates';
import { resumeWorkflows } from '../orchestrator/resume';
import { createProcessMetrics, queueHealth, type ProcessMetrics } from './observability';
import { startWorkerHealth } from './worker-health';
import { errorMessage } from '../agents/errors';
import { waitForDatabase, waitForRedis, waitForSchema } from './startup';

export interface RuntimeOptions {
  server: boolean;
  worker: boolean;
  migrate: boolean;
  /** Chat ports to use instead of the configured platforms' (the in-process engine harness, test/support/engine.ts,
   * records posts with one). */
  chat?: ChatPorts;
}

export interface Runtime {
  url?: string;
  /** The HTTP app (server processes only): tests call app.request() on it. */
  app?: Hono;
  deps: EngineDeps;
  /** Jobs on the queue by state (waiting, active, delayed, completed, failed, ...). */
  queueCounts(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

export async function startRuntime(config: Config, opts: RuntimeOptions, log: Logger): Promise<Runtime> {
  const roleFiles = loadRoles(config.rolesDir, { externalMcp: config.externalMcp });
  const llm = createLlmRouter(config.llm, roleFiles.values());
  const roles = createRoleRegistry(roleFiles, llm);
  const templates = loadTemplates(config.templatesDir, new Set(roles.ids()));
  const cleanup: (() => Promise<unknown>)[] = [];
  const metrics = createProcessMetrics(opts.server && opts.worker ? 'all' : opts.server ? 'server' : 'worker');
  const close = async () => {
    for (const fn of cleanup.reverse()) await fn().catch((e) => log.warn('shutdown step failed', { error: String(e) }));
  };
  try {
    const redisUrl = await redisUrlFor(config, log, cleanup);
    const db = await openDatabase(config.database);
    cleanup.push(() => db.close());
    // Bounded waits (STARTUP_WAIT_S) with one line each, instead of hanging on reconnects (app/startup.ts)
    await Promise.all([waitForRedis(redisUrl, config.startupWaitMs, log), waitForDatabase(db, config.startupWaitMs, log)]);
    await migrateIfAsked(db, opts.migrate, log);
    if (!opts.migrate) await waitForSchema(db, config.startupWaitMs, log); // workers never migrate: the server does
    // Jobs are added through a connection that fails at once while Redis is unreachable; they are then kept in the
    // PostgreSQL inbox, which the relay moves to the queue when Redis is back (orchestrator/inbox.ts).
    const producer = producerConnection(redisUrl);
    cleanup.push(() => producer.quit());
    const redisQueue = createJobQueue(producer, config.queuePrefix, config.steps);
    cleanup.push(() => redisQueue.close());
    const queue = durableQueue(redisQueue, db.prisma, log);
    const relay = startInboxRelay(redisQueue, db.prisma, log);
    cleanup.push(() => relay.stop());
    const counterFold = startMetricCounterFold(db.prisma, log);
    cleanup.push(() => counterFold.stop());
    const chat: ChatPorts = opts.chat ? { ...opts.chat } : config.slack ? { slack: slackChat(slackWebClient(config.slack.botToken, config.slack.apiUrl)) } : {};
    const teams = config.teams ? createTeams(config.teams, db.prisma, log) : undefined;
    if (teams) chat.teams = teams.chat;
    log.info(`Teams: ${teams ? teams.describe : 'not configured (set TEAMS_APP_ID, TEAMS_APP_PASSWORD and TEAMS_TENANT_ID)'}`);
    const toolDeps: ToolDeps = { llm, artifacts: artifactStore(db.prisma), violations: violationLog(db.prisma), usage: usageLog(db.prisma), externalMcp: config.externalMcp, log };
    const planner = buildPlanner(config, templates, roles, llm, log, toolDeps.usage);
    const tools = (where: { workflowId: string; stepId: string }) => stepToolRunner(toolDeps, where);
    const files = createFiles(config, cleanup);
    const fileStore = config.files.store;
    log.info(`Files: ${fileStore.kind === 's3' ? `bucket ${fileStore.bucket}${fileStore.endpoint ? ` at ${fileStore.endpoint}` : ''}` : `directory ${fileStore.dir} (set S3_BUCKET for an S3-compatible store)`}, at most ${Math.round(config.files.maxBytes / 1024 / 1024)} MB per file`);
    const deps: EngineDeps = { prisma: db.prisma, chat, queue, roles, planner, llm, log, tools, files };
    log.info(`roles: ${roles.ids().join(', ')}; LLM: ${llm.describe}; Slack: ${config.slack ? config.slack.apiUrl : 'not configured (set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN)'}`);
    if (opts.worker) {
      const worker = startWorker(config, deps, redisUrl, log, cleanup);
      metrics.observeWorker(worker);
      if (config.worker.healthPort !== undefined) {
        const health = await startWorkerHealth({
          host: config.http.host, port: config.worker.healthPort, metricsToken: config.metricsToken, registry: metrics.registry,
          running: () => worker.isRunning(),
          checks: [{ name: 'postgres', check: () => db.prisma.$queryRaw`SELECT 1` }, { name: 'redis', check: () => producer.ping() }],
        }, log);
        cleanup.push(() => health.close());
      }
      await resumeWorkflows(deps);
    }
    const queueCounts = () => redisQueue.queue.getJobCounts();
    const admin: AdminExtras = { roleFiles, queueCounts, queueHealth: () => queueHealth(redisQueue.queue), processRegistry: metrics.registry };
    const server = opts.server ? await startServer(config, deps, toolDeps, producer, log, cleanup, admin, metrics, teams) : undefined;
    return { url: server?.url, app: server?.app, deps, close, queueCounts };
  } catch (e) {
    await close();
    throw e;
  }
}

/** Shared files: the store (S3-compatible bucket, else a local directory), parser threads, platform downloaders. */
function createFiles(config: Config, cleanup: (() => Promise<unknown>)[]): FilesDeps {
  const s = config.files.store;
  const store: FileStore = s.kind === 's3'
    ? new S3FileStore({ bucket: s.bucket, endpoint: s.endpoint, region: s.region, accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey })
    : new LocalFileStore({ dir: s.dir });
  const pool = new FileParserPool({ limits: { maxBytes: config.files.maxBytes } });
  cleanup.push(() => pool.close());
  const downloads: FilesDeps['downloads'] = {};
  if (config.slack) downloads.slack = slackFiles({ botToken: config.slack.botToken, apiUrl: config.slack.apiUrl });
  return { store, pool, maxBytes: config.files.maxBytes, downloads };
}

async function redisUrlFor(config: Config, log: Logger, cleanup: (() => Promise<unknown>)[]): Promise<string> {
  if (config.redis.kind === 'url') {
    log.info(`Redis: ${config.redis.url.replace(/\/\/[^@]*@/, '//***@')}`);
    return config.redis.url;
  }
  const embedded: EmbeddedRedis = await startEmbeddedRedis(config.redis.bin, config.redis.dir);
  cleanup.push(() => embedded.stop());
  log.info(`Redis: embedded ${config.redis.bin} at ${embedded.url} (data in ${config.redis.dir}; set REDIS_URL to use your own)`);
  return embedded.url;
}

async function migrateIfAsked(db: Database, migrate: boolean, log: Logger): Promise<void> {
  log.info(`Database: ${db.describe}`);
  if (!migrate) return;
  const applied = await db.migrate();
  log.info(applied.length ? `Database: applied migrations ${applied.join(', ')}` : 'Database: schema up to date');
}

function startWorker(config: Config, deps: EngineDeps, redisUrl: string, log: Logger, cleanup: (() => Promise<unknown>)[]): Worker {
  const connection = redisConnection(redisUrl);
  const worker = createJobWorker(
    connection, config.queuePrefix, { ...config.worker, infra: config.infra }, createJobHandler(deps),
    (e, job) => log.warn('job failed', { job: job?.id, attempt: job?.attemptsMade, error: errorMessage(e) }),
    (job, e, delayMs) => log.warn(`${e.dependency} unavailable: job ${job.id} retried in ${Math.round(delayMs / 1000)} s (not counted as an attempt)`, { error: errorMessage(e).split('\n').at(-1) }),
  );
  cleanup.push(() => connection.quit());
  cleanup.push(() => worker.close());
  log.info(`Workers: concurrency ${config.worker.concurrency}, queue prefix ${config.queuePrefix}`);
  return worker;
}

/** Connections waiting to be accepted: a burst of simultaneous connections (e.g. 1,000 Slack events at once) waits
 *  in the kernel instead of being dropped, which would cost each dropped sender a 1 s SYN retransmit. Node's default
 *  is 511; the kernel caps it at net.core.somaxconn. */
const LISTEN_BACKLOG = 4096;

async function startServer(
  config: Config, deps: EngineDeps, toolDeps: ToolDeps, redis: Redis, log: Logger, cleanup: (() => Promise<unknown>)[], admin: AdminExtras, metrics: ProcessMetrics, teams?: TeamsEdge,
): Promise<{ url: string; app: Hono }> {
  const orchestrator = createOrchestrator(deps);
  const hosts = createHostPolicy({ publicHosts: config.mcp.publicHosts, allowedOrigins: config.mcp.allowedOrigins, listenHost: config.http.host });
  const edges = [
    ...(config.slack ? [slackRoutes(config.slack, orchestrator, log)] : []),
    ...(teams ? [teams.routes(orchestrator)] : []),
    mcpRoutes(deps.roles, toolDeps, { keys: mcpKeyStore(deps.prisma), hosts, log }),
    await adminConsole(config, deps, admin, log),
  ];
  const http = createHttpRoot([
    { name: 'postgres', check: async () => void (await deps.prisma.$queryRaw`SELECT 1`) },
    { name: 'redis', check: async () => void (await redis.ping()) },
  ], edges, log, [metrics.httpMetrics]);
  const server: ServerType = createAdaptorServer({ fetch: http.fetch, hostname: config.http.host });
  server.listen({ port: config.http.port, host: config.http.host, backlog: LISTEN_BACKLOG });
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  cleanup.push(() => new Promise((r) => server.close(() => r(undefined))));
  const { port } = server.address() as { port: number };
  hosts.listening(port);
  const url = `http://${config.http.host}:${port}`;
  log.info(`HTTP: listening on ${url} (Slack events at ${url}/slack/events, admin console at ${url}/admin, metrics at ${url}/metrics)`);
  log.info(`MCP: /mcp needs an API key (create one in the admin console); accepted Host: ${hosts.describe()}`);
  return { url, app: http };
}

/** MCP API keys in the McpApiKey table, looked up by the sha256 of the key. */
function mcpKeyStore(prisma: Db): ApiKeyStore {
  return {
    findByHash: (hash) => prisma.mcpApiKey.findUnique({ where: { hash } }),
    markUsed: async (id, at, unlessAfter) =>
      void (await prisma.mcpApiKey.updateMany({ where: { id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: unlessAfter } }] }, data: { lastUsedAt: at } })),
  };
}
