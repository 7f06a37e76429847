// Which failures are infrastructure (retried until it is back, not counted as attempts) and which are not; the delay
// between infrastructure retries; job data read back from the PostgreSQL inbox.
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { ErrorCode } from '@slack/web-api';
import { describe, expect, it } from 'vitest';
import { PrismaClient, Prisma } from '../../generated/prisma/client';
import { asInfraError, infraRetryDelay, InfraError, isInfraError } from '../../orchestrator/infra';
import { jobId, JobDataSchema, type JobData } from '../../orchestrator/jobs';
import { freePort } from '../support/app-process';

const slackError = (props: Record<string, unknown>) => Object.assign(new Error('slack'), props);

describe('asInfraError', () => {
  it('recognises an unreachable PostgreSQL through Prisma (adapter-pg), for queries and transactions', async () => {
    const pool = new pg.Pool({ connectionString: `postgresql://postgres@127.0.0.1:${await freePort()}/x`, max: 1 });
    const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
    try {
      const failures = await Promise.all([
        prisma.workflow.findFirst().catch((e: unknown) => e),
        prisma.$executeRaw`SELECT 1`.catch((e: unknown) => e),
        prisma.$transaction(async (tx) => tx.workflow.count()).catch((e: unknown) => e),
      ]);
      for (const e of failures) {
        expect(e).toBeInstanceOf(Error);
        expect(asInfraError(e)).toMatchObject({ dependency: 'database' });
      }
    } finally {
      await prisma.$disconnect();
      await pool.end();
    }
  });

  it('recognises Prisma connection codes, PostgreSQL shutdown states, sockets and Slack overload', () => {
    const known = (code: string, meta?: Record<string, unknown>) => new Prisma.PrismaClientKnownRequestError('x', { code, clientVersion: 'test', meta });
    for (const code of ['P1001', 'P1017', 'P2024']) expect(isInfraError(known(code)), code).toBe(true);
    expect(isInfraError(known('P2010', { driverAdapterError: { cause: { kind: 'postgres', code: '57P01' } } }))).toBe(true);
    expect(isInfraError(new Prisma.PrismaClientInitializationError('cannot connect', 'test'))).toBe(true);
    expect(isInfraError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isInfraError(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isInfraError(slackError({ code: ErrorCode.HTTPError, statusCode: 503 }))).toBe(true);
    expect(isInfraError(slackError({ code: ErrorCode.HTTPError, statusCode: 429 }))).toBe(true);
    expect(isInfraError(slackError({ code: ErrorCode.RequestError }))).toBe(true);
    expect(asInfraError(slackError({ code: ErrorCode.RateLimitedError, retryAfter: 7 }))?.retryAfterMs).toBe(7_000);
    expect(isInfraError(slackError({ code: ErrorCode.PlatformError, data: { ok: false, error: 'ratelimited' } }))).toBe(true);
    expect(isInfraError(new Error('wrapped', { cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }) }))).toBe(true);
    expect(new InfraError('redis', 'down')).toBeInstanceOf(Error);
  });

  it('does not take the work\'s own failures for infrastructure', () => {
    const known = (code: string) => new Prisma.PrismaClientKnownRequestError('x', { code, clientVersion: 'test' });
    expect(isInfraError(known('P2002'))).toBe(false); // unique constraint
    expect(isInfraError(known('P2025'))).toBe(false); // record not found
    expect(isInfraError(new Error('boom'))).toBe(false);
    expect(isInfraError(slackError({ code: ErrorCode.PlatformError, data: { ok: false, error: 'channel_not_found' } }))).toBe(false);
    expect(isInfraError(slackError({ code: ErrorCode.HTTPError, statusCode: 400 }))).toBe(false);
    expect(isInfraError('a string')).toBe(false);
  });
});

describe('infraRetryDelay', () => {
  it('doubles from about 1 s up to the cap, and waits at least what the dependency asked for', () => {
    const opts = { maxHours: 6, maxDelayMs: 30_000 };
    expect(infraRetryDelay(1, opts)).toBeGreaterThanOrEqual(800);
    expect(infraRetryDelay(1, opts)).toBeLessThanOrEqual(1_200);
    expect(infraRetryDelay(3, opts)).toBeGreaterThanOrEqual(3_200);
    expect(infraRetryDelay(50, opts)).toBeLessThanOrEqual(36_000);
    expect(infraRetryDelay(1, opts, 10_000)).toBe(10_000);
  });
});

describe('JobDataSchema', () => {
  it('reads back every kind of job and refuses what Rolecall never wrote', () => {
    const jobs: JobData[] = [
      { kind: 'intake', message: { platform: 'slack', teamId: 'T1', channelId: 'C1', threadTs: '1.1', messageTs: '1.1', userId: 'U1', text: 'hi', mentioned: true } },
      { kind: 'step', stepId: 's', revision: 1, run: 2 },
      { kind: 'decision', approvalId: 'a' },
      {
        kind: 'click', deliveryId: 'slack:U1:trig', action: 'approve', value: 'a', feedback: 'more', pressedAt: '2026-12-01T10:00:00.000Z',
        actor: { kind: 'chat', platform: 'slack', userId: 'U1', teamId: 'T1', channelId: 'C1' },
        reply: { thread: { platform: 'slack', teamId: 'T1', channelId: 'C1', threadTs: '1.1' }, person: { id: 'U1' } },
      },
    ];
    for (const j of jobs) expect(JobDataSchema.parse(JSON.parse(JSON.stringify(j)))).toEqual(j);
    expect(JobDataSchema.safeParse({ kind: 'click', deliveryId: 'x', action: 'drop_tables', value: 'v' }).success).toBe(false);
    expect(JobDataSchema.safeParse({ kind: 'nope' }).success).toBe(false);
    // a click's job id is fixed by its delivery, and holds no ':' (BullMQ refuses those)
    expect(jobId(jobs[3]!)).toBe(jobId({ ...(jobs[3] as Extract<JobData, { kind: 'click' }>) }));
    expect(jobId(jobs[3]!)).toMatch(/^click-slack-[A-Za-z0-9_-]{32}$/);
  });
});
