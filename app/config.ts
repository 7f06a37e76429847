// The only place that reads the environment. Parsed once with zod; the result is passed in everywhere else.
import os from 'node:os';
import { z } from 'zod';
import { BUILT_IN_PROVIDERS, type AzureOptions, type EndpointOptions } from '../agents/llm/providers';
import type { ProviderLimit } from '../agents/llm/rate-limit';
import { BudgetDefaultSchema, type BudgetDefault } from '../orchestrator/cost-controls';
import { retentionRuleSchema, type RetentionRule } from '../orchestrator/privacy/retention';
import { TEAMS_ENV, teamsConfig, teamsIssues, type TeamsConfig } from '../bot/teams/config';
import { OperatorError } from '../agents/errors';
import { parseHostEntry } from '../agents/mcp/hosts';
import { parseAllowEntry, parseHttpAllow, parseStdioCommands } from '../agents/mcp/external';
import { TEMPLATES_DIR } from '../orchestrator/templates';
import { parsePriceOverrides, type PriceOptions } from '../agents/llm/pricing';
import type { TierOptions } from '../agents/llm/routing';
import { TRACES_SAMPLERS, type TracingOptions } from './tracing';

const optionalString = z.string().trim().min(1).optional();
/** A provider's name as roles and LLM_RATE_LIMITS write it. */
const PROVIDER_NAME = /^[a-z][a-z0-9_-]{0,39}$/;
const EndpointSchema = z.object({ name: z.string().regex(PROVIDER_NAME), baseURL: z.string().url().regex(/^https?:\/\//i), apiKey: z.string().min(1).max(500).default('none') }).strict();
const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);

const envSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    HOST: z.string().default('127.0.0.1'),
    PORT: int(3000),
    LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
    DATA_DIR: z.string().default('.data'),
    DATABASE_URL: z.string().url().optional(),
    DATABASE_POOL_MAX: int(20, 2),
    REDIS_URL: z.string().url().optional(),
    REDIS_SERVER_BIN: z.string().default('redis-server'),
    QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+$/).default('rolecall'),
    ROLES_DIR: z.string().default('roles'),
    TEMPLATES_DIR: z.string().optional(), // unset: the shipped templates (orchestrator/templates, copied next to the build)
    INTENT_MIN_CONFIDENCE: z.coerce.number().min(0).max(1).default(0.3),
    SLACK_SIGNING_SECRET: optionalString,
    SLACK_BOT_TOKEN: optionalString,
    SLACK_API_URL: z.string().url().default('https://slack.com/api/'),
    SLACK_APP_TOKEN: z.string().trim().regex(/^xapp-/, 'must be an app-level token (xapp-…, Basic Information → App-Level Tokens, scope connections:write)').optional(),
    SLACK_CLIENT_ID: optionalString,
    SLACK_CLIENT_SECRET: optionalString,
    SLACK_STATE_SECRET: z.string().trim().min(32, 'must be at least 32 characters').optional(),
    SLACK_TOKEN_ENCRYPTION_KEY: z.string().trim().refine((v) => Buffer.from(v, 'base64').length === 32 && /^[A-Za-z0-9+/]+={0,2}$/.test(v), 'must be 32 random bytes in base64 (e.g. `openssl rand -base64 32`)').optional(),
    SLACK_OAUTH_REDIRECT_URL: z.string().url().optional(),
    OPENAI_API_KEY: optionalString,
    OPENAI_BASE_URL: z.string().url().optional(),
    OLLAMA_HOST: z.string().url().optional(),
    LLM_TIMEOUT_MS: int(60_000, 1),
    // More providers, rate limits, budgets and limits on new workflows (issue 16): README "Budgets, rate limits and providers"
    AZURE_OPENAI_ENDPOINT: z.string().url().regex(/^https?:\/\//i).optional(),
    AZURE_OPENAI_API_KEY: optionalString,
    AZURE_OPENAI_API_VERSION: z.string().trim().regex(/^\d{4}-\d{2}-\d{2}(-preview)?$/, 'must look like 2024-10-21').default('2024-10-21'),
    AZURE_OPENAI_DEPLOYMENT: optionalString,
    LLM_ENDPOINTS: jsonOf(z.array(EndpointSchema).max(20)),
    LLM_RATE_LIMITS: jsonOf(z.record(z.string().regex(PROVIDER_NAME), z.object({ rpm: z.number().int().positive().optional(), tpm: z.number().int().positive().optional() }).strict())),
    LLM_RATE_LIMIT_MAX_WAIT_MS: int(10_000, 0),
    BUDGETS: jsonOf(z.array(BudgetDefaultSchema).max(20)),
    BUDGET_ACTION: z.enum(['wait', 'local']).default('wait'),
    BUDGET_WARN_AT: z.coerce.number().gt(0).max(1).default(0.8),
    BUDGET_RECHECK_S: z.coerce.number().positive().max(86_400).default(30),
    BUDGET_LOCAL_PROVIDER: z.string().regex(PROVIDER_NAME).default('ollama'),
    BUDGET_LOCAL_MODEL: optionalString,
    // Privacy (issue 18): README "Privacy"
    RETENTION: jsonOf(z.array(retentionRuleSchema).max(50)),
    RETENTION_EVERY_MINUTES: z.coerce.number().int().min(1).max(10_080).default(60),
    RETENTION_BATCH: z.coerce.number().int().min(1).max(10_000).default(500),
    PRIVACY_PSEUDONYM_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    ENCRYPTION_MASTER_KEY: z.string().trim().refine((v) => Buffer.from(v, 'base64').length === 32 && /^[A-Za-z0-9+/]+={0,2}$/.test(v), 'must be 32 random bytes in base64 (e.g. `openssl rand -base64 32`)').optional(),
    ENCRYPTION_MASTER_KEY_PREVIOUS: z.string().trim().refine((v) => v.split(',').every((k) => Buffer.from(k.trim(), 'base64').length === 32 && /^[A-Za-z0-9+/]+={0,2}$/.test(k.trim())), 'must be comma-separated 32-byte keys in base64').optional(),
    WORKFLOWS_PER_PERSON: int(0, 0), // 0: off (benches and tests start hundreds from one person); README suggests values
    WORKFLOWS_PER_CHANNEL: int(0, 0),
    WORKFLOW_LIMIT_WINDOW_MINUTES: int(60, 1),
    // Prices (agents/llm/pricing.ts) and model tiers (agents/llm/routing.ts): README "Model tiers and cost"
    LLM_PRICES: z.string().trim().max(10_000).optional().superRefine((v, ctx) => {
      const parsed = parsePriceOverrides(v);
      if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
    }),
    LOCAL_COMPUTE_USD_PER_HOUR: z.coerce.number().min(0).max(10_000).default(0),
    MODEL_SHADOW_SAMPLE: z.coerce.number().min(0).max(1).default(0),
    MODEL_SHADOW_MIN_SAMPLES: int(20, 1),
    STEP_ATTEMPTS: int(3, 1),
    STEP_BACKOFF_MS: int(2_000, 0),
    STEP_FALLBACK_ATTEMPTS: int(1, 0),
    STARTUP_WAIT_S: int(30, 0),
    WORKER_CONCURRENCY: z.coerce.number().int().min(1).optional(), // unset: defaultWorkerConcurrency
    WORKER_LOCK_MS: int(30_000, 1_000),
    WORKER_STALLED_INTERVAL_MS: int(10_000, 500),
    WORKER_HEALTH_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
    INFRA_RETRY_MAX_HOURS: z.coerce.number().positive().max(168).default(6),
    INFRA_RETRY_MAX_DELAY_MS: int(30_000, 100),
    ...TEAMS_ENV,
    ADMIN_SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    ADMIN_SESSION_TTL_MINUTES: int(720, 5),
    ADMIN_SESSION_MAX_HOURS: z.coerce.number().positive().max(8760).default(24),
    ADMIN_LOGIN_MAX_FAILURES: int(5, 1),
    ADMIN_LOGIN_MAX_PER_IP: int(20, 1),
    ADMIN_LOGIN_MAX_PER_ACCOUNT: int(50, 1),
    ADMIN_LOGIN_WINDOW_MINUTES: int(15, 1),
    PUBLIC_HOSTS: optionalString,
    MCP_ALLOWED_ORIGINS: optionalString,
    METRICS_TOKEN: z.string().trim().min(16, 'must be at least 16 characters').optional(),
    ADMIN_LOGIN_MAX_CONCURRENT_HASHES: int(4, 1),
    MCP_STDIO_COMMANDS: optionalString,
    MCP_HTTP_ALLOW: optionalString,
    FILES_DIR: optionalString, // unset: DATA_DIR/files
    FILES_MAX_MB: z.coerce.number().positive().max(1024).default(25),
    /** The console's public address (e.g. https://rolecall.example.com): Teams threads get links to a role's files there. */
    CONSOLE_URL: z.string().url().optional(),
    S3_ENDPOINT: z.string().url().regex(/^https?:\/\//i, 'must be an http(s) URL, e.g. http://minio:9000').optional(),
    S3_BUCKET: optionalString,
    S3_REGION: z.string().trim().min(1).default('us-east-1'),
    S3_ACCESS_KEY_ID: optionalString,
    S3_SECRET_ACCESS_KEY: optionalString,
    // OpenTelemetry traces (the standard variables; README "Observability"): off unless an OTLP endpoint is set
    OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().regex(/^https?:\/\//i, 'must be an http(s) URL (OTLP/HTTP), e.g. http://otel-collector:4318').optional(),
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.string().url().regex(/^https?:\/\//i, 'must be an http(s) URL (OTLP/HTTP), e.g. http://otel-collector:4318/v1/traces').optional(),
    OTEL_SDK_DISABLED: z.enum(['true', 'false']).default('false'),
    OTEL_SERVICE_NAME: z.string().trim().min(1).max(200).default('rolecall'),
    OTEL_TRACES_SAMPLER: z.enum(TRACES_SAMPLERS).default('parentbased_always_on'),
    OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).default(1),
    OTEL_TRACE_URL_TEMPLATE: z.string().url().refine((u) => u.includes('{traceId}'), 'must contain {traceId}, e.g. http://localhost:16686/trace/{traceId}').optional(),
  })
  .superRefine((env, ctx) => {
    teamsIssues(env, ctx);
    slackIssues(env, ctx);
    for (const entry of parseHttpAllow(env.MCP_HTTP_ALLOW)) {
      const parsed = parseAllowEntry(entry);
      if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', path: ['MCP_HTTP_ALLOW'], message: parsed });
    }
    for (const h of list(env.PUBLIC_HOSTS)) {
      if (!parseHostEntry(h)) ctx.addIssue({ code: 'custom', path: ['PUBLIC_HOSTS'], message: `"${h}" is not a host or host:port` });
    }
    for (const o of list(env.MCP_ALLOWED_ORIGINS)) {
      if (!/^https?:\/\/[^/]+\/?$/i.test(o) || !URL.canParse(o)) ctx.addIssue({ code: 'custom', path: ['MCP_ALLOWED_ORIGINS'], message: `"${o}" is not an origin (scheme://host[:port])` });
    }
    if (env.DATABASE_URL && env.WORKER_CONCURRENCY !== undefined && env.WORKER_CONCURRENCY > env.DATABASE_POOL_MAX) {
      ctx.addIssue({
        code: 'custom', path: ['WORKER_CONCURRENCY'],
        message: `(${env.WORKER_CONCURRENCY}) is above DATABASE_POOL_MAX (${env.DATABASE_POOL_MAX}): every running job needs a database connection of the process's pool, so jobs would wait for each other; lower WORKER_CONCURRENCY or raise DATABASE_POOL_MAX (and PostgreSQL's max_connections, see README "Connection budget")`,
      });
    }
    if (env.S3_BUCKET) {
      for (const k of ['S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'] as const) {
        if (!env[k]) ctx.addIssue({ code: 'custom', path: [k], message: 'is required when S3_BUCKET is set' });
      }
    } else {
      for (const k of ['S3_ENDPOINT', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'] as const) {
        if (env[k]) ctx.addIssue({ code: 'custom', path: ['S3_BUCKET'], message: `is required when ${k} is set (unset: files are kept in FILES_DIR)` });
      }
    }
    if (!!env.AZURE_OPENAI_ENDPOINT !== !!env.AZURE_OPENAI_API_KEY) {
      ctx.addIssue({ code: 'custom', path: [env.AZURE_OPENAI_ENDPOINT ? 'AZURE_OPENAI_API_KEY' : 'AZURE_OPENAI_ENDPOINT'], message: 'is required when Azure OpenAI is configured (set both AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_API_KEY)' });
    }
    for (const [i, ep] of (Array.isArray(env.LLM_ENDPOINTS) ? env.LLM_ENDPOINTS : []).entries()) {
      if ((BUILT_IN_PROVIDERS as readonly string[]).includes(ep.name) || env.LLM_ENDPOINTS!.findIndex((o) => o.name === ep.name) !== i) {
        ctx.addIssue({ code: 'custom', path: ['LLM_ENDPOINTS'], message: `name "${ep.name}" is taken (built-in: ${BUILT_IN_PROVIDERS.join(', ')}; names must be unique)` });
      }
    }
    if (env.OPENAI_BASE_URL && !env.OPENAI_API_KEY) {
      ctx.addIssue({ code: 'custom', path: ['OPENAI_API_KEY'], message: 'is required when OPENAI_BASE_URL is set (use any non-empty value for servers without keys)' });
    }
  }, { when: () => true }); // also when a field failed to parse, so one run names every bad variable

export type Env = z.infer<typeof envSchema>;

export interface Config {
  env: Env['NODE_ENV'];
  http: { host: string; port: number };
  logLevel: Env['LOG_LEVEL'];
  dataDir: string;
  database: { kind: 'postgres'; url: string; poolMax: number } | { kind: 'pglite'; dir: string };
  redis: { kind: 'url'; url: string } | { kind: 'embedded'; bin: string; dir: string };
  queuePrefix: string;
  rolesDir: string;
  templatesDir: string;
  intentMinConfidence: number;
  /** Slack: events over HTTP (signingSecret, POST /slack/events) and/or Socket Mode (appToken); one workspace's
   *  botToken, or "Add to Slack" installs (oauth) with tokens sealed under oauth.tokenKey. */
  slack?: SlackConfig;
  teams?: TeamsConfig;
  llm: {
    openai?: { apiKey: string; baseURL?: string };
    ollama?: { host: string };
    azure?: AzureOptions;
    /** OpenAI-compatible endpoints (LLM_ENDPOINTS): vLLM, LM Studio, Together, Groq, ... */
    endpoints: EndpointOptions[];
    /** Requests and tokens per minute per provider, shared through Redis; the longest in-process wait. */
    rateLimits: { limits: Record<string, ProviderLimit>; maxWaitMs: number };
    timeoutMs: number;
    /** Model attempts per call: the role's model first (STEP_ATTEMPTS, backoff STEP_BACKOFF_MS), then its fallback. */
    retry: { attempts: number; backoffMs: number; fallbackAttempts: number };
  };
  steps: { attempts: number; backoffMs: number };
  /** Budgets: config defaults (BUDGETS), the policy at 100%, the 80% notice, the local model. */
  budgets: { defaults: BudgetDefault[]; action: 'wait' | 'local'; warnAt: number; recheckMs: number; local?: { provider: string; model: string } };
  /** Privacy (issue 18): retention defaults and schedule, the pseudonym key of subject erasures. */
  privacy: { retention: RetentionRule[]; retentionEveryMs: number; retentionBatch: number; pseudonymSecret?: string };
  /** Encryption at rest (issue 18): the master key data keys are wrapped with, and previous ones still unwrapping
   *  (during a rotation). Absent: encryption off. */
  encryption?: { masterKey: Uint8Array; previous: Uint8Array[] };
  /** New workflows per person and per channel per window (0: no limit). */
  workflowLimits: { perPerson: number; perChannel: number; windowS: number };
  /** Price overrides and local compute price (LLM_PRICES, LOCAL_COMPUTE_USD_PER_HOUR). */
  prices: PriceOptions;
  /** Shadow mode of model tiers (MODEL_SHADOW_SAMPLE, MODEL_SHADOW_MIN_SAMPLES). */
  tiers: TierOptions;
  /** How long start-up waits for Redis, PostgreSQL and (workers) the migrated schema before giving up. */
  startupWaitMs: number;
  /** healthPort: a worker process's /health, /ready and /metrics listener (app/worker-health.ts); unset: none. */
  worker: { concurrency: number; lockDurationMs: number; stalledIntervalMs: number; healthPort?: number };
  /** Jobs that fail on infrastructure (database, Redis, chat API) are retried this long, waiting at most maxDelayMs. */
  infra: { maxHours: number; maxDelayMs: number };
  admin: AdminConfig;
  /** External MCP servers role files may name: exact stdio command lines, and HTTP hosts/addresses/networks. */
  externalMcp: { stdioCommands: string[][]; httpAllow: string[] };
  /** Who may reach /mcp: PUBLIC_HOSTS (unset: the listen host and loopback names on the port) and further origins. */
  mcp: { publicHosts?: string[]; allowedOrigins: string[] };
  /** METRICS_TOKEN: /metrics then needs `Authorization: Bearer <token>`. */
  metricsToken?: string;
  /** OpenTelemetry traces: undefined when no OTLP endpoint is set (the SDK is then never loaded). */
  tracing?: Omit<TracingOptions, 'processKind'>;
  /** OTEL_TRACE_URL_TEMPLATE: the console links each step to its trace ({traceId}, {spanId}). */
  traceUrlTemplate?: string;
  /** Shared files: where the bytes are kept (a local directory, or an S3-compatible bucket) and the size limit. */
  files: { store: { kind: 'local'; dir: string } | { kind: 's3'; endpoint?: string; bucket: string; region: string; accessKeyId: string; secretAccessKey: string }; maxBytes: number; consoleUrl?: string };
}

export interface SlackConfig {
  apiUrl: string;
  signingSecret?: string;
  appToken?: string;
  botToken?: string;
  oauth?: { clientId: string; clientSecret: string; stateSecret: string; tokenKey: Uint8Array; redirectUri?: string };
}

export interface AdminConfig {
  /** HS256 key for console session JWTs; unset: generated once and kept in DATA_DIR/admin-session-secret. */
  sessionSecret?: string;
  sessionTtlSeconds: number;
  /** Absolute session lifetime from sign-in; re-issuing the cookie does not extend it. */
  sessionMaxAgeSeconds: number;
  /** Secure flag on the session cookie (production only: plain-HTTP local runs must still sign in). */
  secureCookies: boolean;
  /** Sign-in attempts per window, counted before the password is checked: per IP+email, per IP, per email. */
  login: { maxFailures: number; maxPerIp: number; maxPerAccount: number; windowMs: number; maxConcurrentHashes: number };
}

/** Thrown when configuration is invalid: the operator's fault. The message names every bad variable. */
export class ConfigError extends OperatorError {
}

export function loadConfig(source: Record<string, string | undefined>): Config {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return {
    env: e.NODE_ENV,
    http: { host: e.HOST, port: e.PORT },
    logLevel: e.LOG_LEVEL,
    dataDir: e.DATA_DIR,
    database: e.DATABASE_URL ? { kind: 'postgres', url: e.DATABASE_URL, poolMax: e.DATABASE_POOL_MAX } : { kind: 'pglite', dir: `${e.DATA_DIR}/pglite` },
    redis: e.REDIS_URL ? { kind: 'url', url: e.REDIS_URL } : { kind: 'embedded', bin: e.REDIS_SERVER_BIN, dir: `${e.DATA_DIR}/redis` },
    queuePrefix: e.QUEUE_PREFIX,
    rolesDir: e.ROLES_DIR,
    templatesDir: e.TEMPLATES_DIR ?? TEMPLATES_DIR,
    intentMinConfidence: e.INTENT_MIN_CONFIDENCE,
    slack: slackConfig(e),
    teams: teamsConfig(e),
    llm: {
      openai: e.OPENAI_API_KEY ? { apiKey: e.OPENAI_API_KEY, baseURL: e.OPENAI_BASE_URL } : undefined,
      ollama: e.OLLAMA_HOST ? { host: e.OLLAMA_HOST } : undefined,
      azure: e.AZURE_OPENAI_ENDPOINT && e.AZURE_OPENAI_API_KEY
        ? { endpoint: e.AZURE_OPENAI_ENDPOINT, apiKey: e.AZURE_OPENAI_API_KEY, apiVersion: e.AZURE_OPENAI_API_VERSION, deployment: e.AZURE_OPENAI_DEPLOYMENT }
        : undefined,
      endpoints: e.LLM_ENDPOINTS ?? [],
      rateLimits: { limits: e.LLM_RATE_LIMITS ?? {}, maxWaitMs: e.LLM_RATE_LIMIT_MAX_WAIT_MS },
      timeoutMs: e.LLM_TIMEOUT_MS,
      retry: { attempts: e.STEP_ATTEMPTS, backoffMs: e.STEP_BACKOFF_MS, fallbackAttempts: e.STEP_FALLBACK_ATTEMPTS },
    },
    steps: { attempts: e.STEP_ATTEMPTS, backoffMs: e.STEP_BACKOFF_MS },
    budgets: {
      defaults: e.BUDGETS ?? [], action: e.BUDGET_ACTION, warnAt: e.BUDGET_WARN_AT, recheckMs: Math.round(e.BUDGET_RECHECK_S * 1000),
      local: e.BUDGET_LOCAL_MODEL ? { provider: e.BUDGET_LOCAL_PROVIDER, model: e.BUDGET_LOCAL_MODEL } : undefined,
    },
    privacy: { retention: e.RETENTION ?? [], retentionEveryMs: e.RETENTION_EVERY_MINUTES * 60_000, retentionBatch: e.RETENTION_BATCH, pseudonymSecret: e.PRIVACY_PSEUDONYM_SECRET ?? e.ADMIN_SESSION_SECRET },
    ...(e.ENCRYPTION_MASTER_KEY ? { encryption: { masterKey: new Uint8Array(Buffer.from(e.ENCRYPTION_MASTER_KEY, 'base64')), previous: (e.ENCRYPTION_MASTER_KEY_PREVIOUS ?? '').split(',').map((k) => k.trim()).filter(Boolean).map((k) => new Uint8Array(Buffer.from(k, 'base64'))) } } : {}),
    workflowLimits: { perPerson: e.WORKFLOWS_PER_PERSON, perChannel: e.WORKFLOWS_PER_CHANNEL, windowS: e.WORKFLOW_LIMIT_WINDOW_MINUTES * 60 },
    prices: { overrides: priceOverrides(e.LLM_PRICES), localUsdPerHour: e.LOCAL_COMPUTE_USD_PER_HOUR },
    tiers: { shadowSample: e.MODEL_SHADOW_SAMPLE, minSamples: e.MODEL_SHADOW_MIN_SAMPLES },
    startupWaitMs: e.STARTUP_WAIT_S * 1000,
    worker: { concurrency: e.WORKER_CONCURRENCY ?? defaultWorkerConcurrency(os.availableParallelism(), e.DATABASE_URL ? e.DATABASE_POOL_MAX : undefined), lockDurationMs: e.WORKER_LOCK_MS, stalledIntervalMs: e.WORKER_STALLED_INTERVAL_MS, healthPort: e.WORKER_HEALTH_PORT },
    infra: { maxHours: e.INFRA_RETRY_MAX_HOURS, maxDelayMs: e.INFRA_RETRY_MAX_DELAY_MS },
    admin: {
      sessionSecret: e.ADMIN_SESSION_SECRET,
      sessionTtlSeconds: e.ADMIN_SESSION_TTL_MINUTES * 60,
      sessionMaxAgeSeconds: Math.round(e.ADMIN_SESSION_MAX_HOURS * 3600),
      secureCookies: e.NODE_ENV === 'production',
      login: {
        maxFailures: e.ADMIN_LOGIN_MAX_FAILURES, maxPerIp: e.ADMIN_LOGIN_MAX_PER_IP, maxPerAccount: e.ADMIN_LOGIN_MAX_PER_ACCOUNT,
        windowMs: e.ADMIN_LOGIN_WINDOW_MINUTES * 60_000, maxConcurrentHashes: e.ADMIN_LOGIN_MAX_CONCURRENT_HASHES,
      },
    },
    externalMcp: { stdioCommands: parseStdioCommands(e.MCP_STDIO_COMMANDS), httpAllow: parseHttpAllow(e.MCP_HTTP_ALLOW) },
    mcp: { publicHosts: e.PUBLIC_HOSTS ? list(e.PUBLIC_HOSTS) : undefined, allowedOrigins: list(e.MCP_ALLOWED_ORIGINS) },
    metricsToken: e.METRICS_TOKEN,
    tracing: tracingOf(e),
    traceUrlTemplate: e.OTEL_TRACE_URL_TEMPLATE,
    files: {
      store: e.S3_BUCKET && e.S3_ACCESS_KEY_ID && e.S3_SECRET_ACCESS_KEY
        ? { kind: 's3', endpoint: e.S3_ENDPOINT, bucket: e.S3_BUCKET, region: e.S3_REGION, accessKeyId: e.S3_ACCESS_KEY_ID, secretAccessKey: e.S3_SECRET_ACCESS_KEY }
        : { kind: 'local', dir: e.FILES_DIR ?? `${e.DATA_DIR}/files` },
      maxBytes: Math.round(e.FILES_MAX_MB * 1024 * 1024),
      ...(e.CONSOLE_URL ? { consoleUrl: e.CONSOLE_URL.replace(/\/+$/, '') } : {}),
    },
  };
}

/** Jobs per worker process when WORKER_CONCURRENCY is unset: 5 per CPU (a step mostly waits on the model, the chat
 *  platform and the database), never more than the database pool (PostgreSQL; PGlite has no pool). */
export function defaultWorkerConcurrency(cpus: number, poolMax?: number): number {
  return Math.max(1, Math.min(5 * cpus, poolMax ?? Infinity));
}

/** Slack is configured by a way in (SLACK_SIGNING_SECRET and/or SLACK_APP_TOKEN) and tokens (SLACK_BOT_TOKEN, or the
 *  OAuth client for "Add to Slack"); half of it is an error naming what is missing. */
function slackIssues(env: Env, ctx: z.RefinementCtx): void {
  const oauthKeys = ['SLACK_CLIENT_ID', 'SLACK_CLIENT_SECRET', 'SLACK_STATE_SECRET', 'SLACK_TOKEN_ENCRYPTION_KEY'] as const;
  const oauth = oauthKeys.some((k) => env[k]);
  if (!env.SLACK_SIGNING_SECRET && !env.SLACK_APP_TOKEN && !env.SLACK_BOT_TOKEN && !oauth) return;
  const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  if (!env.SLACK_SIGNING_SECRET && !env.SLACK_APP_TOKEN) {
    issue('SLACK_SIGNING_SECRET', 'is required when Slack is configured (set both SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN; or SLACK_APP_TOKEN for Socket Mode)');
  }
  if (oauth) {
    if (env.SLACK_BOT_TOKEN) issue('SLACK_BOT_TOKEN', 'must be unset with "Add to Slack" (SLACK_CLIENT_ID): each workspace\'s token comes from its install');
    for (const k of oauthKeys) if (!env[k]) issue(k, 'is required for "Add to Slack" installs (SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, SLACK_STATE_SECRET, SLACK_TOKEN_ENCRYPTION_KEY)');
    if (!env.DATABASE_URL) issue('DATABASE_URL', 'is required for "Add to Slack" installs (the installations are kept in PostgreSQL)');
  } else if (!env.SLACK_BOT_TOKEN) {
    issue('SLACK_BOT_TOKEN', 'is required when Slack is configured (set both SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN; or SLACK_CLIENT_ID and the rest for "Add to Slack")');
  }
}

function slackConfig(e: Env): SlackConfig | undefined {
  if (!e.SLACK_SIGNING_SECRET && !e.SLACK_APP_TOKEN) return undefined;
  const ways = { apiUrl: withSlash(e.SLACK_API_URL), ...(e.SLACK_SIGNING_SECRET ? { signingSecret: e.SLACK_SIGNING_SECRET } : {}), ...(e.SLACK_APP_TOKEN ? { appToken: e.SLACK_APP_TOKEN } : {}) };
  if (e.SLACK_BOT_TOKEN) return { ...ways, botToken: e.SLACK_BOT_TOKEN };
  if (e.SLACK_CLIENT_ID && e.SLACK_CLIENT_SECRET && e.SLACK_STATE_SECRET && e.SLACK_TOKEN_ENCRYPTION_KEY) {
    return {
      ...ways,
      oauth: {
        clientId: e.SLACK_CLIENT_ID, clientSecret: e.SLACK_CLIENT_SECRET, stateSecret: e.SLACK_STATE_SECRET,
        tokenKey: new Uint8Array(Buffer.from(e.SLACK_TOKEN_ENCRYPTION_KEY, 'base64')), ...(e.SLACK_OAUTH_REDIRECT_URL ? { redirectUri: e.SLACK_OAUTH_REDIRECT_URL } : {}),
      },
    };
  }
  return undefined;
}

/** Traces go to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, else to OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces (the OTLP
 *  specification's rules); neither set, or OTEL_SDK_DISABLED=true: off. */
function tracingOf(e: Env): Config['tracing'] {
  const url = e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (e.OTEL_EXPORTER_OTLP_ENDPOINT ? `${withSlash(e.OTEL_EXPORTER_OTLP_ENDPOINT)}v1/traces` : undefined);
  if (!url || e.OTEL_SDK_DISABLED === 'true') return undefined;
  return { url, serviceName: e.OTEL_SERVICE_NAME, sampler: { name: e.OTEL_TRACES_SAMPLER, ratio: e.OTEL_TRACES_SAMPLER_ARG } };
}

/** A JSON-valued variable, parsed and checked by `schema` (unset: undefined). */
function jsonOf<T extends z.ZodTypeAny>(schema: T) {
  return z.string().trim().max(20_000).optional().transform((v, ctx): z.infer<T> | undefined => {
    if (!v) return undefined;
    let raw: unknown;
    try {
      raw = JSON.parse(v);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be JSON' });
      return z.NEVER;
    }
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      ctx.addIssue({ code: 'custom', message: parsed.error.issues.map((i) => `${i.path.join('.') || '(value)'}: ${i.message}`).join('; ') });
      return z.NEVER;
    }
    return parsed.data;
  });
}

/** LLM_PRICES, already checked by the schema. */
function priceOverrides(v: string | undefined): PriceOptions['overrides'] {
  const parsed = parsePriceOverrides(v);
  return typeof parsed === 'string' ? {} : parsed;
}

const withSlash = (u: string) => (u.endsWith('/') ? u : `${u}/`);
/** A comma- or space-separated list. */
function list(v: string | undefined): string[] {
  return (v ?? '').split(/[\s,]+/).filter(Boolean);
}
