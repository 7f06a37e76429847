// Security: DNS rebinding. Every /mcp path answers 403 unless Host is one of the server's public hosts (default: the
// listen host, localhost, 127.0.0.1 and [::1] on its port; or PUBLIC_HOSTS) and an Origin, when sent, is one of them
// or in MCP_ALLOWED_ORIGINS. Real HTTP requests with the Host and Origin a rebinding page would send, even with a key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../app/config';
import { startHarness, type Harness } from '../support/harness';
import { consoleAs, createKey, INIT, MCP_HEADERS, mcpClient, rawRequest } from './mcp-support';

let h: Harness;
let key: string;
let port: string;

beforeAll(async () => {
  h = await startHarness({ worker: false });
  key = await createKey(h, await consoleAs(h, 'admin'), { roles: ['*'], readArtifacts: true, runTasks: true });
  port = new URL(h.url).port;
});
afterAll(async () => { await h?.close(); });

const PATHS = ['/mcp', '/mcp/developer', '/mcp/developer/health'] as const;

function call(target: Harness, path: string, headers: Record<string, string>, k = key) {
  const mcp = path === '/mcp/developer';
  return rawRequest(target, path, { method: mcp ? 'POST' : 'GET', headers: { ...(mcp ? MCP_HEADERS : {}), authorization: `Bearer ${k}`, ...headers }, body: mcp ? INIT : undefined });
}

describe('Host and Origin with the default public hosts', () => {
  it('answers a request for a foreign Host with 403, even with a valid key', async () => {
    for (const path of PATHS) {
      for (const host of [`evil.example:${port}`, 'evil.example', `127.0.0.1:${Number(port) + 1}`, `127.0.0.1.evil.example:${port}`, `localhost.:${port}`]) {
        const res = await call(h, path, { host });
        expect(res.status, `${path} Host ${host}`).toBe(403);
        expect(res.body).not.toContain('evil');
        expect(res.body).not.toContain('protocolVersion');
      }
    }
  });

  it('answers a request from a foreign Origin with 403: a rebinding page sends its own Host and Origin', async () => {
    for (const path of PATHS) {
      for (const headers of [
        { host: `127.0.0.1:${port}`, origin: `http://evil.example:${port}` },
        { host: `evil.example:${port}`, origin: `http://evil.example:${port}` },
        { host: `127.0.0.1:${port}`, origin: 'null' },
        { host: `127.0.0.1:${port}`, origin: `file://127.0.0.1:${port}` },
        { host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${Number(port) + 1}` },
      ]) {
        expect((await call(h, path, headers)).status, `${path} ${JSON.stringify(headers)}`).toBe(403);
      }
    }
  });

  it('serves its own hosts, with or without a same-host Origin', async () => {
    for (const path of PATHS) {
      for (const headers of [{ host: `127.0.0.1:${port}` }, { host: `localhost:${port}` }, { host: `LOCALHOST:${port}`, origin: `http://localhost:${port}` }, { host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}` }] as Record<string, string>[]) {
        expect((await call(h, path, headers)).status, `${path} ${JSON.stringify(headers)}`).toBe(200);
      }
    }
    const c = await mcpClient(h, 'developer', key);
    expect((await c.listTools()).tools.length).toBeGreaterThan(0);
    await c.close();
  });
});

describe('PUBLIC_HOSTS and MCP_ALLOWED_ORIGINS', () => {
  let p: Harness;
  let pKey: string;
  beforeAll(async () => {
    p = await startHarness({ worker: false, env: { PUBLIC_HOSTS: 'rolecall.example.com, mcp.example.com:8443', MCP_ALLOWED_ORIGINS: 'https://inspector.example.com' } });
    pKey = await createKey(p, await consoleAs(p, 'admin'), { roles: ['*'] });
  });
  afterAll(async () => { await p?.close(); });

  it('serves exactly the configured hosts and origins', async () => {
    const pPort = new URL(p.url).port;
    for (const path of PATHS) {
      const status = async (headers: Record<string, string>) => (await call(p, path, headers, pKey)).status;
      expect(await status({ host: `127.0.0.1:${pPort}` }), path).toBe(403); // the default is replaced
      expect(await status({ host: `localhost:${pPort}` }), path).toBe(403);
      expect(await status({ host: 'rolecall.example.com' }), path).toBe(200);
      expect(await status({ host: 'rolecall.example.com:3000' }), path).toBe(200);
      expect(await status({ host: 'mcp.example.com:8443' }), path).toBe(200);
      expect(await status({ host: 'mcp.example.com:9999' }), path).toBe(403);
      expect(await status({ host: 'rolecall.example.com', origin: 'https://rolecall.example.com' }), path).toBe(200);
      expect(await status({ host: 'rolecall.example.com', origin: 'https://inspector.example.com' }), path).toBe(200);
      expect(await status({ host: 'rolecall.example.com', origin: 'https://inspector.example.com.evil.example' }), path).toBe(403);
      expect(await status({ host: 'rolecall.example.com', origin: 'https://evil.example' }), path).toBe(403);
    }
  });

  it('refuses malformed settings at start', () => {
    expect(() => loadConfig({ PUBLIC_HOSTS: 'rolecall.example.com/path' })).toThrow(ConfigError);
    expect(() => loadConfig({ PUBLIC_HOSTS: 'user@rolecall.example.com' })).toThrow(/PUBLIC_HOSTS/);
    expect(() => loadConfig({ MCP_ALLOWED_ORIGINS: 'https://x.example/path' })).toThrow(/MCP_ALLOWED_ORIGINS/);
    expect(loadConfig({ PUBLIC_HOSTS: 'a.example,https://b.example:8443' }).mcp.publicHosts).toEqual(['a.example', 'https://b.example:8443']);
  });
});
