// Security: /metrics takes a bearer token when METRICS_TOKEN is set (401 without it, over real HTTP), and the compose
// file publishes no port on all interfaces: PostgreSQL and Redis not at all, the server on 127.0.0.1 with METRICS_TOKEN
// required.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../app/config';
import { startHarness, type Harness } from '../support/harness';

const TOKEN = 'metrics-token-0123456789abcdef';
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ worker: false, env: { METRICS_TOKEN: TOKEN } });
});
afterAll(async () => { await h?.close(); });

describe('/metrics with METRICS_TOKEN', () => {
  it('answers 401 without the token, with a wrong one, or with the token anywhere but the Authorization header', async () => {
    for (const [path, headers] of [
      ['/metrics', {}],
      ['/metrics', { authorization: 'Bearer wrong-token-0123456789abcdef' }],
      ['/metrics', { authorization: `Bearer ${TOKEN}x` }],
      ['/metrics', { authorization: `Basic ${Buffer.from(`metrics:${TOKEN}`).toString('base64')}` }],
      ['/metrics', { authorization: TOKEN }],
      [`/metrics?token=${TOKEN}&access_token=${TOKEN}`, {}],
    ] as const) {
      const res = await fetch(`${h.url}${path}`, { headers });
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
      expect(await res.text()).not.toMatch(/rolecall_/);
    }
  });

  it('serves the metrics with the token', async () => {
    const res = await fetch(`${h.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^rolecall_queue_jobs\{state="waiting"\} \d+$/m);
  });

  it('refuses a short token at start', () => {
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/);
  });
});

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as { services: Record<string, { ports?: (string | { host_ip?: string })[]; environment?: Record<string, string> }> };

  /** A port as compose publishes it when the operator sets nothing: `${VAR:-default}` is its default. */
  const byDefault = (p: string) => p.replace(/\$\{[A-Za-z0-9_]+:-([^}]*)\}/g, '$1');

  it('publishes no port on all interfaces (unless the operator says so), and neither PostgreSQL nor Redis', () => {
    expect(compose.services.postgres!.ports).toBeUndefined();
    expect(compose.services.redis!.ports).toBeUndefined();
    for (const [name, service] of Object.entries(compose.services)) {
      for (const p of service.ports ?? []) {
        if (typeof p === 'string') expect(byDefault(p), name).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
        else expect(p.host_ip, name).toBe('127.0.0.1');
      }
    }
    expect(compose.services.app!.ports!.map((p) => byDefault(String(p)))).toEqual(['127.0.0.1:3000:3000']);
  });

  it('requires METRICS_TOKEN for the server', () => {
    expect(compose.services.app!.environment!.METRICS_TOKEN).toMatch(/^\$\{METRICS_TOKEN:\?.+\}$/);
  });
});
