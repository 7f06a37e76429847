// Security: what anyone can reach answers without internal detail. /ready (server and worker) says which dependency is down, never why
// (the error names hosts, ports, paths); an MCP run_task whose model call fails answers an error id, not the
// provider's message; a Teams request that fails authentication gets no SDK detail (a key-set fetch error names the
// identity provider's host). Each detail is in the log, under the error id the answer gives.
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { workerHealthApp } from '../../app/worker-health';
import { createLogger } from '../../orchestrator/log';
import { channelMention, channelToken, startFakeMicrosoft, teamsPoster, type FakeMicrosoft } from '../support/fake-teams';
import { startHarness, type Harness } from '../support/harness';
import { startOwnRedis, type OwnRedis } from '../support/redis-server';
import { consoleAs, createKey, mcpClient } from './mcp-support';

let h: Harness | undefined;
let redis: OwnRedis | undefined;
let ms: FakeMicrosoft | undefined;
let logged: string[] = [];
afterEach(async () => {
  await redis?.start().catch(() => undefined); // let the app close its connections cleanly
  await h?.close();
  await redis?.close();
  await ms?.close();
  h = redis = ms = undefined;
  logged = [];
});

const log = () => createLogger('info', (line) => void logged.push(line));
const ERROR_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Internal detail: addresses, ports, URLs, connection errors, file paths, stack frames. */
const INTERNAL = /127\.0\.0\.1|localhost|ECONNREFUSED|ETIMEDOUT|redis:\/\/|postgres(ql)?:\/\/|https?:\/\/|\/srv\/|\/tmp\/|node_modules|\bat \S+:\d+:\d+|Error:/;

describe('/ready', () => {
  it('names the dependency that is down and an error id, nothing else; the detail is logged under that id', async () => {
    redis = await startOwnRedis();
    h = await startHarness({ env: { REDIS_URL: redis.url }, worker: false, log: log() });
    const up = await fetch(`${h.url}/ready`, { signal: AbortSignal.timeout(10_000) });
    expect(up.status).toBe(200);
    expect(await up.json()).toEqual({ status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });

    await redis.stop('SIGKILL');
    const down = await fetch(`${h.url}/ready`, { signal: AbortSignal.timeout(10_000) });
    expect(down.status).toBe(503);
    const raw = await down.text();
    expect(raw).not.toMatch(INTERNAL);
    expect(raw).not.toContain(String(redis.port));
    const body = JSON.parse(raw) as { status: string; checks: Record<string, string>; errorId: string };
    expect(body).toEqual({ status: 'not ready', checks: { postgres: 'ok', redis: 'down' }, errorId: expect.stringMatching(ERROR_ID) });
    const line = logged.find((l) => l.includes(body.errorId));
    expect(line).toMatch(/readiness check failed/);
    expect(line).toMatch(/redis/);
  });
});

describe("a worker's /ready (WORKER_HEALTH_PORT)", () => {
  it('names the failing check and an error id, not the error', async () => {
    const app = workerHealthApp({
      host: '127.0.0.1', port: 0, registry: new Registry(), running: () => true,
      checks: [
        { name: 'postgres', check: async () => undefined },
        { name: 'redis', check: async () => { throw new Error('connect ECONNREFUSED 10.20.30.40:6380 (see /srv/rolecall/redis.conf)'); } },
      ],
    }, log());
    const res = await app.request('/ready');
    expect(res.status).toBe(503);
    const raw = await res.text();
    expect(raw).not.toMatch(INTERNAL);
    expect(raw).not.toMatch(/10\.20\.30\.40|6380|redis\.conf/);
    const body = JSON.parse(raw) as { errorId: string };
    expect(body).toEqual({ status: 'not ready', worker: 'running', checks: { postgres: 'ok', redis: 'down' }, errorId: expect.stringMatching(ERROR_ID) });
    expect(logged.find((l) => l.includes(body.errorId))).toContain('10.20.30.40:6380');
  });
});

describe('MCP run_task', () => {
  it('answers a failed model call with an error id, not the provider message (which names a secret path and host)', async () => {
    const secret = 'invalid key for org org-7Hs8Qx (see /srv/rolecall/secrets/openai.json, gateway https://llm-gw.internal.corp:8443/v1)';
    h = await startHarness({ worker: false, log: log() });
    h.openai.script = () => ({ status: 400, error: secret });
    const key = await createKey(h, await consoleAs(h, 'admin'), { roles: ['business_analyst'], runTasks: true });
    const c = await mcpClient(h, 'business_analyst', key);
    const result = await c.callTool({ name: 'run_task', arguments: { task: 'write the user stories for a login page' } });
    await c.close();
    expect(result.isError).toBe(true);
    const text = JSON.stringify(result.content);
    expect(text).not.toMatch(INTERNAL);
    expect(text).not.toMatch(/org-7Hs8Qx|secrets|llm-gw|8443/);
    const errorId = /error id ([0-9a-f-]{36})/.exec(text)?.[1];
    expect(errorId).toMatch(ERROR_ID);
    expect(h.openai.requests.length).toBeGreaterThan(0); // the model was called and failed
    const line = logged.find((l) => l.includes(errorId!));
    expect(line).toContain('/srv/rolecall/secrets/openai.json');
  });
});

describe('Teams /api/messages', () => {
  it('refuses a request whose token cannot be checked without naming the identity provider or the SDK error', async () => {
    ms = await startFakeMicrosoft();
    h = await startHarness({ env: ms.env, worker: false, log: log() });
    const teams = teamsPoster(h.url, ms);
    const activity = channelMention(ms, 'we need a login page');
    const token = channelToken(ms);
    const loginPort = new URL(ms.loginUrl).port;
    await ms.close(); // the key set can no longer be fetched: the SDK's error names its URL

    const unreachable = await teams.send(activity, { authorization: `Bearer ${token}` });
    expect(unreachable.status).toBe(401);
    const raw = await unreachable.text();
    expect(raw).not.toMatch(INTERNAL);
    expect(raw).not.toContain(loginPort);
    expect(JSON.parse(raw)).toEqual({ error: 'unauthorized' });

    const forged = await teams.send(activity, { authorization: 'Bearer not.a.jwt' });
    expect(forged.status).toBe(401);
    expect(await forged.json()).toEqual({ error: 'unauthorized' });
    expect(logged.some((l) => /teams request refused/.test(l))).toBe(true);
    ms = undefined; // closed above
  });
});
