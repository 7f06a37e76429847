import { describe, expect, it } from 'vitest';
import os from 'node:os';
import { ConfigError, defaultWorkerConcurrency, loadConfig } from '../../app/config';

describe('loadConfig', () => {
  it('runs on embedded defaults with nothing set', () => {
    const c = loadConfig({});
    expect(c.database).toEqual({ kind: 'pglite', dir: '.data/pglite' });
    expect(c.redis).toEqual({ kind: 'embedded', bin: 'redis-server', dir: '.data/redis' });
    expect(c.slack).toBeUndefined();
    expect(c.llm.openai).toBeUndefined();
    expect(c.http).toEqual({ host: '127.0.0.1', port: 3000 });
  });

  it('uses the given services and treats empty strings as unset', () => {
    const c = loadConfig({ DATABASE_URL: 'postgresql://u:p@db:5432/x', REDIS_URL: 'redis://r:6379', SLACK_SIGNING_SECRET: 's', SLACK_BOT_TOKEN: 'xoxb', SLACK_API_URL: 'http://127.0.0.1:9/api', OLLAMA_HOST: '' });
    expect(c.database).toEqual({ kind: 'postgres', url: 'postgresql://u:p@db:5432/x', poolMax: 20 });
    expect(c.redis).toEqual({ kind: 'url', url: 'redis://r:6379' });
    expect(c.slack).toEqual({ signingSecret: 's', botToken: 'xoxb', apiUrl: 'http://127.0.0.1:9/api/' });
    expect(c.llm.ollama).toBeUndefined();
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL'],
    [{ SLACK_SIGNING_SECRET: 's' }, 'SLACK_BOT_TOKEN'],
    [{ SLACK_BOT_TOKEN: 'xoxb' }, 'SLACK_SIGNING_SECRET'],
    [{ OPENAI_BASE_URL: 'http://127.0.0.1:1/v1' }, 'OPENAI_API_KEY'],
    [{ STEP_ATTEMPTS: '0' }, 'STEP_ATTEMPTS'],
    [{ QUEUE_PREFIX: 'a:b' }, 'QUEUE_PREFIX'],
  ])('rejects %j naming %s', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`\\b${variable}:`));
  });
  it('sizes worker concurrency to the CPUs and the pool, and refuses more jobs than connections', () => {
    expect(defaultWorkerConcurrency(2)).toBe(10);
    expect(defaultWorkerConcurrency(16, 20)).toBe(20);
    const pg = { DATABASE_URL: 'postgresql://u@db:5432/x' };
    expect(loadConfig(pg).worker.concurrency).toBe(defaultWorkerConcurrency(os.availableParallelism(), 20));
    expect(loadConfig({ ...pg, DATABASE_POOL_MAX: '4' }).worker.concurrency).toBe(Math.min(4, 5 * os.availableParallelism()));
    expect(loadConfig({ ...pg, WORKER_CONCURRENCY: '20', DATABASE_POOL_MAX: '20' }).worker.concurrency).toBe(20);
    const tooMany = () => loadConfig({ ...pg, WORKER_CONCURRENCY: '50', DATABASE_POOL_MAX: '20' });
    expect(tooMany).toThrow(ConfigError);
    expect(tooMany).toThrow(/WORKER_CONCURRENCY: \(50\) is above DATABASE_POOL_MAX \(20\)/);
    expect(loadConfig({ WORKER_CONCURRENCY: '50' }).worker.concurrency).toBe(50); // PGlite: no pool
  });
});
