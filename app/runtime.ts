// Composition root: builds every component from the parsed config and starts the HTTP server and/or the workers.
import { createAdaptorServer, type ServerType } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { createLlmRouter, type LlmRouter } from '../agents/llm/router';
import { createProviderLimiter, lateLimiter } from '../agents/llm/rate-limit';
import type { BudgetOptions } from '../orchestrator/cost-controls';
import { createWorkflowThrottle } from '../orchestrator/throttle';
import { configurePrices } from '../agents/llm/pricing';
import type { ApiKeyStore } from '../agents/mcp/api-keys';
import { createHostPolicy } from '../agents/mcp/hosts';
import { mcpRoutes } from '../agents/mcp/http';
import { stepToolRunner, type ToolDeps } from '../agents/mcp/tools';
import { createRoleRegistry } from '../agents/mcp/registry';
import { loadRoles } from '../agents/roles';
import { slackEdge } from '../bot/slack/app';
import { slackChat, slackClients, slackOperationOf } from '../bot/slack/chat';
import { installationTokens, staticTokens, type SlackInstallations, type SlackTokens } from '../bot/slack/installations';
import { tokenSeal } from '../bot/slack/token-seal';
import { slackFiles } from '../bot/slack/files';
import { FileParserPool } from '../agents/files/pool';
import { S3FileStore } from '../agents/files/s3-store';
import { LocalFileStore, type FileStore } from '../agents/files/store';
import { runTaskFileIntake, type FileDownloader, type FilesDeps } from '../orchestrator/files';
import { createTeams, teamsOperationOf, type TeamsEdge } from '../bot/teams';
import { webChat, webFiles, WebStore } from '../bot/web';
import { createHttpRoot, httpTracing } from './http';
import { homeRoutes, type HomeOptions } from './home';
import { createOrchestrator } from '../orchestrator/api';
import { adminConsole, type AdminExtras } from './admin';
import type { ChatPorts } from '../orchestrator/chat';
import type { Config } from './config';
import { openDatabase, type Database, type Db } from '../orchestrator/db';
import { atRest, envKeyWrapper, KeyRing, SHARED_SCOPE, type AtRest } from '../orchestrator/privacy/at-rest';
import type { EngineDeps } from '../orchestrator/deps';
import { startEmbeddedRedis, type EmbeddedRedis } from '../orchestrator/embedded-redis';
import { createJobHandler } from '../orchestrator/handler';
import type { Logger } from '../orchestrator/log';
import { createJobQueue, createJobWorker, producerConnection, redisConnection } from '../orchestrator/queue';
import { durableQueue, startInboxRelay } from '../orchestrator/inbox';
import { startOutboxSweep } from '../orchestrator/outbox';
import { startMetricCounterFold } from '../orchestrator/metric-counters';
import { artifactStore, usageLog, violationLog } from '../orchestrator/stores';
import { buildPlanner } from './planner';
import { loadTemplates } from '../orchestrator/templates';
import { resumeWorkflows } from '../orchestrator/resume';
import { startTracing } from './tracing';
import { createRoleSync } from '../orchestrator/role-sync';
import { tracedLlmRouter } from '../agents/llm/traced';
import { privateLlmRouter } from '../agents/llm/private';
import { erasureRequests, startRetentionScheduler } from '../orchestrator/privacy/scheduler';
import { resolveSessionSecret } from '../web-admin/auth/secret';
import { useMentionKey } from '../bot/mention-key';
import { tracingEnabled } from '../agents/tracing';
import { tracedChatPorts, tracedFetch, tracedJobHandler, tracedJobQueue, tracedToolRunner } from '../orchestrator/traced';
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
  // Traces first (nothing is loaded when they are off), so every part below is built traced (app/tracing.ts).
  const tracing = await startTracing(config.tracing && { ...config.tracing, processKind: opts.server && opts.worker ? 'all' : opts.server ? 'server' : 'worker' }, log);
  const traced = <T>(plain: T, decorate: (x: T) => T): T => (tracing ? decorate(plain) : plain);
  const roleFiles = loadRoles(config.rolesDir, { externalMcp: config.externalMcp });
  configurePrices(config.prices); // before any model call is priced
  // Rolecall's own mention markers: one key for every process of the deployment (a post built here may be sent by
  // another worker's poster), derived from the shared secret (bot/mention-key.ts)
  // (resolved once here: it may be generated into the data dir on first start, and the console and the retention
  // pseudonyms use the same one)
  const sessionSecret = resolveSessionSecret(config.admin.sessionSecret, config.dataDir, log);
  useMentionKey(sessionSecret);
  const providerLimiter = lateLimiter(); // per-provider rate limits, shared through Redis once it is connected
  const llm = privateRouter(traced(createLlmRouter(config.llm, roleFiles.values(), providerLimiter), tracedLlmRouter), config);
  const roles = createRoleRegistry(roleFiles, llm);
  const templates = loadTemplates(config.templatesDir, new Set(roles.ids()));
  const cleanup: (() => Promise<unknown>)[] = [];
  if (tracing) cleanup.push(() => tracing.shutdown()); // the last step of close(): spans of the shutdown are sent too
  const metrics = createProcessMetrics(opts.server && opts.worker ? 'all' : opts.server ? 'server' : 'worker');
  const close = async () => {
    for (const fn of cleanup.reverse()) await fn().catch((e) => log.warn('shutdown step failed', { error: String(e) }));
  };
  try {
    const redisUrl = await redisUrlFor(config, log, cleanup);
    const ring = new KeyRing(config.encryption && envKeyWrapper(config.encryption.masterKey, config.encryption.previous));
    const db = await openDatabase(config.database, ring);
    cleanup.push(() => db.close());
    // Bounded waits (STARTUP_WAIT_S) with one line each, instead of hanging on reconnects (app/startup.ts)
    await Promise.all([waitForRedis(redisUrl, config.startupWaitMs, log), waitForDatabase(db, config.startupWaitMs, log)]);
    await migrateIfAsked(db, opts.migrate, log);
    if (!opts.migrate) await waitForSchema(db, config.startupWaitMs, log); // workers never migrate: the server does
    const atRest = await startAtRest(config, db.prisma, ring, log); // a wrong master key stops the start here
    // Role edits saved in the console (by any server) over the files, reloaded when they change (orchestrator/role-sync.ts)
    const roleSync = createRoleSync(db.prisma, roleFiles, log);
    cleanup.push(async () => roleSync.stop());
    await roleSync.refresh();
    // Jobs are added through a connection that fails at once while Redis is unreachable; they are then kept in the
    // PostgreSQL inbox, which the relay moves to the queue when Redis is back (orchestrator/inbox.ts).
    const producer = producerConnection(redisUrl);
    // Rate limits on Redis: per provider (LLM_RATE_LIMITS, x-ratelimit-*) and on new workflows (agents/llm/rate-limit.ts, orchestrator/throttle.ts)
    providerLimiter.use(createProviderLimiter({ redis: producer, prefix: config.queuePrefix, limits: config.llm.rateLimits.limits, maxWaitMs: config.llm.rateLimits.maxWaitMs }));
    const throttle = createWorkflowThrottle({ redis: producer, prefix: config.queuePrefix, ...config.workflowLimits });
    cleanup.push(() => producer.quit());
    const redisQueue = createJobQueue(producer, config.queuePrefix, config.steps);
    cleanup.push(() => redisQueue.close());
    const queue = traced(durableQueue(redisQueue, db.prisma, log), tracedJobQueue);
    const relay = startInboxRelay(redisQueue, db.prisma, log);
    cleanup.push(() => relay.stop());
    // Chat posts whose drain job was lost (orchestrator/outbox.ts): added again once they waited too long.
    const outboxSweep = startOutboxSweep(redisQueue, db.prisma, log);
    cleanup.push(() => outboxSweep.stop());
    const counterFold = startMetricCounterFold(db.prisma, log);
    cleanup.push(() => counterFold.stop());
    const slackTokens = config.slack && slackTokensFor(config.slack, db.prisma, atRest);
    // Every HTTP request of the platforms' clients (Web API calls, uploads, downloads, tokens) in a span when traced
    const slackFetch = config.slack && tracing ? tracedFetch('slack', slackOperationOf(config.slack.apiUrl)) : undefined;
    const chat: ChatPorts = opts.chat ? { ...opts.chat } : config.slack && slackTokens ? { slack: slackChat(slackClients(slackTokens, config.slack.apiUrl, slackFetch)) } : {};
    const teams = config.teams ? createTeams(config.teams, db.prisma, log, tracing ? tracedFetch('teams', teamsOperationOf) : undefined) : undefined;
    if (teams) chat.teams = teams.chat;
    chat.web ??= webChat(new WebStore(db.prisma, atRest)); // the console's playground: always on
    log.info(`Teams: ${teams ? teams.describe : 'not configured (set TEAMS_APP_ID, TEAMS_APP_PASSWORD and TEAMS_TENANT_ID)'}`);
    const budgets = budgetOptions(config, llm, log);
    const toolDeps: ToolDeps = { llm, artifacts: artifactStore(db.prisma), violations: violationLog(db.prisma), usage: usageLog(db.prisma, budgets), externalMcp: config.externalMcp, log }; // usage: intent and MCP calls count against budgets
    const planner = buildPlanner(config, templates, roles, llm, log, toolDeps.usage);
    const tools = (where: { workflowId: string; stepId: string }) => traced(stepToolRunner(toolDeps, where), (t) => tracedToolRunner(t, where));
    const files = createFiles(config, cleanup, slackTokens, teams?.files, slackFetch, atRest);
    toolDeps.files = { intake: runTaskFileIntake({ prisma: db.prisma, llm, log, files }), maxBytes: files.maxBytes }; // run_task's files (MCP embedded resources), taken like shared files
    const fileStore = config.files.store;
    log.info(`Files: ${fileStore.kind === 's3' ? `bucket ${fileStore.bucket}${fileStore.endpoint ? ` at ${fileStore.endpoint}` : ''}` : `directory ${fileStore.dir} (set S3_BUCKET for an S3-compatible store)`}, at most ${Math.round(config.files.maxBytes / 1024 / 1024)} MB per file`);
    const deps: EngineDeps = { prisma: db.prisma, chat: traced(chat, tracedChatPorts), queue, roles, planner, llm, log, tools, files, tiers: config.tiers, budgets, throttle, atRest, roleEdits: roleSync };
    log.info(`roles: ${roles.ids().join(', ')}; LLM: ${llm.describe}; Slack: ${config.slack ? `${config.slack.apiUrl}${config.slack.appToken ? ', Socket Mode' : ''}${config.slack.oauth ? ', "Add to Slack" installs' : ''}` : 'not configured (set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN, or SLACK_APP_TOKEN and SLACK_BOT_TOKEN for Socket Mode)'}`);
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
      // Retention (issue 18): a repeatable job on its own small queue (orchestrator/privacy/scheduler.ts)
      const retentionConnection = redisConnection(redisUrl);
      const retention = await startRetentionScheduler(retentionConnection, config.queuePrefix, db.prisma, { defaults: config.privacy.retention, batchSize: config.privacy.retentionBatch, everyMs: config.privacy.retentionEveryMs, files: files.store, pseudonymSecret: config.privacy.pseudonymSecret ?? sessionSecret }, log);
      cleanup.push(() => retentionConnection.quit());
      cleanup.push(() => retention.close());
    }
    const queueCounts = () => redisQueue.queue.getJobCounts();
    const admin: AdminExtras = { roleFiles, roleSync, queueCounts, queueHealth: () => queueHealth(redisQueue.queue), processRegistry: metrics.registry, sessionSecret };
    const server = opts.server ? await startServer(config, deps, toolDeps, producer, log, cleanup, admin, metrics, teams) : undefined;
    return { url: server?.url, app: server?.app, deps, close, queueCounts };
  } catch (e) {
    await close();
    throw e;
  }
}

/** Encryption at rest (issue 18): on with ENCRYPTION_MASTER_KEY; every data key is unwrapped at start, so a wrong
 *  master key fails here (EncryptionKeyError) rather than on some later read. Off: said loudly, once. */
async function startAtRest(config: Config, prisma: Db, ring: KeyRing, log: Logger): Promise<AtRest> {
  const a = atRest(prisma, ring);
  if (!a.on) {
    log.warn('ENCRYPTION AT REST IS OFF: message text, outputs, file text and file bytes are stored in clear (set ENCRYPTION_MASTER_KEY, README "Privacy")');
    return a;
  }
  const { keys } = await a.check();
  log.info(`Encryption at rest: on, master key ${ring.wrapper!.masterKeyId}${config.encryption!.previous.length ? ` (and ${config.encryption!.previous.length} previous, until rotated)` : ''}, ${keys} data key(s)`);
  return a;
}

/** Shared files: the store (S3-compatible bucket, else a local directory), parser threads, platform downloaders. */
function createFiles(config: Config, cleanup: (() => Promise<unknown>)[], slackTokens?: SlackTokens, teamsFiles?: FileDownloader, slackFetch?: typeof fetch, atRest?: AtRest): FilesDeps {
  const s = config.files.store;
  const codec = atRest ? { codec: atRest.files } : {}; // file bytes at rest (issue 18): sealed when on; an encrypted file without a key is refused
  const store: FileStore = s.kind === 's3'
    ? new S3FileStore({ bucket: s.bucket, endpoint: s.endpoint, region: s.region, accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey, ...codec })
    : new LocalFileStore({ dir: s.dir, ...codec });
  const pool = new FileParserPool({ limits: { maxBytes: config.files.maxBytes } });
  cleanup.push(() => pool.close());
  const downloads: FilesDeps['downloads'] = {};
  downloads.web = webFiles(store); // playground uploads: the server put their bytes in this store
  if (config.slack && slackTokens) downloads.slack = slackFiles({ botToken: config.slack.botToken ?? slackTokens, apiUrl: config.slack.apiUrl, fetch: slackFetch });
  if (teamsFiles) downloads.teams = teamsFiles;
  const sealText = atRest?.on ? async (text: string) => (await atRest.sealer(SHARED_SCOPE)).text(text) : undefined;
  return { store, pool, maxBytes: config.files.maxBytes, downloads, ...(config.files.consoleUrl ? { consoleUrl: config.files.consoleUrl } : {}), ...(sealText ? { sealText } : {}) };
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
  // Role edits: a step reloads them when its first statement reads a newer version (deps.roleEdits, role-sync.ts)
  const handler = createJobHandler(deps);
  const connection = redisConnection(redisUrl);
  const worker = createJobWorker(
    connection, config.queuePrefix, { ...config.worker, infra: config.infra }, tracingEnabled() ? tracedJobHandler(handler, deps.prisma) : handler,
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
  const tokens = config.slack && slackTokensFor(config.slack, deps.prisma, deps.atRest);
  // a person Slack says was deleted is erased (issue 18) by a worker, through the retention queue
  const erasures = erasureRequests(redis, config.queuePrefix);
  cleanup.push(() => erasures.close());
  const personDeleted = (teamId: string, userId: string) => erasures.request({ platform: 'slack', teamId, userId });
  const slack = config.slack && tokens ? slackEdge({ ...config.slack, ...(tracingEnabled() ? { fetch: tracedFetch('slack', slackOperationOf(config.slack.apiUrl)) } : {}) }, tokens, orchestrator, log, { personDeleted }) : undefined;
  const edges = [
    ...(slack ? [slack.routes] : []),
    ...(teams ? [teams.routes(orchestrator)] : []),
    mcpRoutes(deps.roles, toolDeps, { keys: mcpKeyStore(deps.prisma), hosts, log }),
    await adminConsole(config, deps, admin, log),
    homeRoutes({ slack: slackWay(config), teams: !!teams, demoModel: deps.llm.providers.size === 0 }), // `/`, and routes that are off
  ];
  const http = createHttpRoot([
    { name: 'postgres', check: async () => void (await deps.prisma.$queryRaw`SELECT 1`) },
    { name: 'redis', check: async () => void (await redis.ping()) },
  ], edges, log, [...(tracingEnabled() ? [httpTracing()] : []), metrics.httpMetrics]);
  const server: ServerType = createAdaptorServer({ fetch: http.fetch, hostname: config.http.host });
  server.listen({ port: config.http.port, host: config.http.host, backlog: LISTEN_BACKLOG });
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  cleanup.push(() => new Promise((r) => server.close(() => r(undefined))));
  const { port } = server.address() as { port: number };
  hosts.listening(port);
  const url = `http://${config.http.host}:${port}`;
  log.info(`HTTP: listening on ${url} (admin console at ${url}/admin, metrics at ${url}/metrics)`);
  if (slack) {
    slack.start();
    cleanup.push(() => slack.stop());
    log.info(`Slack: ${slack.describe}${config.slack?.appToken ? '' : ` (events at ${url}/slack/events)`}${config.slack?.oauth ? ` (install at ${url}/slack/install)` : ''}`);
  }
  log.info(`MCP: /mcp needs an API key (create one in the admin console); accepted Host: ${hosts.describe()}`);
  log.info(`Playground: ${url}/admin/playground — sign in to the console and type a request to run a workflow without Slack or Teams${deps.llm.providers.size === 0 ? ' (offline demo model: set OPENAI_API_KEY or OLLAMA_HOST for real answers)' : ''}; start page ${url}/`);
  return { url, app: http };
}

/** The Slack bot tokens: SLACK_BOT_TOKEN for every workspace, or each "Add to Slack" install's (sealed in PostgreSQL). */
function slackTokensFor(slack: NonNullable<Config['slack']>, prisma: Db, atRest?: AtRest): SlackTokens | SlackInstallations | undefined {
  if (slack.botToken) return staticTokens(slack.botToken);
  return slack.oauth ? installationTokens(prisma, tokenSeal(slack.oauth.tokenKey), atRest) : undefined;
}

/** How Slack reaches this server: events over HTTP, Socket Mode only, or not at all (its routes answer that they are off). */
function slackWay(config: Config): HomeOptions['slack'] {
  const slack = config.slack as { signingSecret?: string; appToken?: string } | undefined;
  if (!slack) return 'off';
  return slack.appToken ? 'socket' : 'http'; // the Slack edge prefers Socket Mode when both are set (bot/slack/app.ts)
}

/** MCP API keys in the McpApiKey table, looked up by the sha256 of the key. */
function mcpKeyStore(prisma: Db): ApiKeyStore {
  return {
    findByHash: (hash) => prisma.mcpApiKey.findUnique({ where: { hash } }),
    markUsed: async (id, at, unlessAfter) =>
      void (await prisma.mcpApiKey.updateMany({ where: { id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: unlessAfter } }] }, data: { lastUsedAt: at } })),
  };
}

/** Budgets as the engine takes them: config's defaults and policy, and the local model a `local` budget moves steps to
 *  (BUDGET_LOCAL_PROVIDER / BUDGET_LOCAL_MODEL; when that provider is not configured, such steps wait instead). */
function budgetOptions(config: Config, llm: LlmRouter, log: Logger): BudgetOptions {
  const { local, ...rest } = config.budgets;
  const provider = local ? llm.providers.get(local.provider) : undefined;
  if (local && !provider) log.warn(`Budgets: BUDGET_LOCAL_PROVIDER ${local.provider} is not configured: steps over a "local" budget wait instead`);
  return { ...rest, ...(local && provider ? { local: { provider, model: local.model } } : {}) };
}

/** Privacy controls (issue 18, agents/llm/private.ts): PII redaction and local models only, per channel/workspace;
 *  local-only calls go to the budgets' local model (BUDGET_LOCAL_PROVIDER / _MODEL) when one is configured. */
function privateRouter(llm: LlmRouter, config: Config): LlmRouter {
  const local = config.budgets.local;
  const provider = local ? llm.providers.get(local.provider) : undefined;
  return privateLlmRouter(llm, provider && local ? { local: { provider, model: local.model } } : {});
}
