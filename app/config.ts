// The only place that reads the environment. Parsed once with zod; the result is passed in everywhere else.
import os from 'node:os';
import { z } from 'zod';
import { TEAMS_ENV, teamsConfig, teamsIssues, type TeamsConfig } from '../bot/teams/config';
import { OperatorError } from '../agents/errors';
import { parseHostEntry } from '../agents/mcp/hosts';
import { parseAllowEntry, parseHttpAllow, parseStdioCommands } from '../agents/mcp/external';
import { TEMPLATES_DIR } from '../orchestrator/templates';

const optionalString = z.string().trim().min(1).optional();
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
    OPENAI_API_KEY: optionalString,
    OPENAI_BASE_URL: z.string().url().optional(),
    OLLAMA_HOST: z.string().url().optional(),
    LLM_TIMEOUT_MS: int(60_000, 1),
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
    S3_ENDPOINT: z.string().url().regex(/^https?:\/\//i, 'must be an http(s) URL, e.g. http://minio:9000').optional(),
    S3_BUCKET: optionalString,
    S3_REGION: z.string().trim().min(1).default('us-east-1'),
    S3_ACCESS_KEY_ID: optionalString,
    S3_SECRET_ACCESS_KEY: optionalString,
  })
  .superRefine((env, ctx) => {
    teamsIssues(env, ctx);
    if (!!env.SLACK_SIGNING_SECRET !== !!env.SLACK_BOT_TOKEN) {
      const missing = env.SLACK_SIGNING_SECRET ? 'SLACK_BOT_TOKEN' : 'SLACK_SIGNING_SECRET';
      ctx.addIssue({ code: 'custom', path: [missing], message: 'is required when Slack is configured (set both SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN)' });
    }
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
  slack?: { signingSecret: string; botToken: string; apiUrl: string };
  teams?: TeamsConfig;
  llm: {
    openai?: { apiKey: string; baseURL?: string };
    ollama?: { host: string };
    timeoutMs: number;
    /** Model attempts per call: the role's model first (STEP_ATTEMPTS, backoff STEP_BACKOFF_MS), then its fallback. */
    retry: { attempts: number; backoffMs: number; fallbackAttempts: number };
  };
  steps: { attempts: number; backoffMs: number };
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
  /** Shared files: where the bytes are kept (a local directory, or an S3-compatible bucket) and the size limit. */
  files: { store: { kind: 'local'; dir: string } | { kind: 's3'; endpoint?: string; bucket: string; region: string; accessKeyId: string; secretAccessKey: string }; maxBytes: number };
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
    slack: e.SLACK_SIGNING_SECRET && e.SLACK_BOT_TOKEN
      ? { signingSecret: e.SLACK_SIGNING_SECRET, botToken: e.SLACK_BOT_TOKEN, apiUrl: withSlash(e.SLACK_API_URL) }
      : undefined,
    teams: teamsConfig(e),
    llm: {
      openai: e.OPENAI_API_KEY ? { apiKey: e.OPENAI_API_KEY, baseURL: e.OPENAI_BASE_URL } : undefined,
      ollama: e.OLLAMA_HOST ? { host: e.OLLAMA_HOST } : undefined,
      timeoutMs: e.LLM_TIMEOUT_MS,
      retry: { attempts: e.STEP_ATTEMPTS, backoffMs: e.STEP_BACKOFF_MS, fallbackAttempts: e.STEP_FALLBACK_ATTEMPTS },
    },
    steps: { attempts: e.STEP_ATTEMPTS, backoffMs: e.STEP_BACKOFF_MS },
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
    files: {
      store: e.S3_BUCKET && e.S3_ACCESS_KEY_ID && e.S3_SECRET_ACCESS_KEY
        ? { kind: 's3', endpoint: e.S3_ENDPOINT, bucket: e.S3_BUCKET, region: e.S3_REGION, accessKeyId: e.S3_ACCESS_KEY_ID, secretAccessKey: e.S3_SECRET_ACCESS_KEY }
        : { kind: 'local', dir: e.FILES_DIR ?? `${e.DATA_DIR}/files` },
      maxBytes: Math.round(e.FILES_MAX_MB * 1024 * 1024),
    },
  };
}

/** Jobs per worker process when WORKER_CONCURRENCY is unset: 5 per CPU (a step mostly waits on the model, the chat
 *  platform and the database), never more than the database pool (PostgreSQL; PGlite has no pool). */
export function defaultWorkerConcurrency(cpus: number, poolMax?: number): number {
  return Math.max(1, Math.min(5 * cpus, poolMax ?? Infinity));
}

const withSlash = (u: string) => (u.endsWith('/') ? u : `${u}/`);
/** A comma- or space-separated list. */
function list(v: string | undefined): string[] {
  return (v ?? '').split(/[\s,]+/).filter(Boolean);
}
