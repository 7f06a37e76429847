// Security: MCP endpoints never answer with internal error text. A failure inside the server (here: the database losing
// a table under a running server) answers a generic message with an error id, and the detail is logged with that id.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../orchestrator/log';
import { startHarness, type Harness } from '../support/harness';
import { consoleAs, createKey, INIT, MCP_HEADERS, mcpClient, rawRequest, rpc } from './mcp-support';

let h: Harness;
let key: string;
let logged: string[] = [];

beforeAll(async () => {
  h = await startHarness({ worker: false, log: createLogger('error', (line) => void logged.push(line)) });
  key = await createKey(h, await consoleAs(h, 'admin'), { roles: ['*'], readArtifacts: true, runTasks: true });
});
afterAll(async () => {
  await h?.close();
});
afterEach(() => { logged = []; });

/** Runs fn while a table is missing, as if the database had failed. */
async function withoutTable<T>(table: string, fn: () => Promise<T>): Promise<T> {
  await h.prisma.$executeRawUnsafe(`ALTER TABLE "${table}" RENAME TO "${table}_away"`);
  try {
    return await fn();
  } finally {
    await h.prisma.$executeRawUnsafe(`ALTER TABLE "${table}_away" RENAME TO "${table}"`);
  }
}

const INTERNALS = /Step|relation|does not exist|prisma|Invalid `|at .*\.ts|McpApiKey|postgres/i;

describe('an internal failure behind an MCP call', () => {
  it('answers the SDK client "internal error (error id …)" and logs the detail under that id', async () => {
    const c = await mcpClient(h, 'business_analyst', key);
    const failures = await withoutTable('Step', async () => [
      await c.callTool({ name: 'list_artifacts', arguments: {} }).then(() => undefined, (e: Error) => e),
      await c.listResources().then(() => undefined, (e: Error) => e),
      await c.readResource({ uri: 'rolecall://business_analyst/artifacts/some-step' }).then(() => undefined, (e: Error) => e),
    ]);
    await c.close();
    for (const e of failures) {
      expect(e).toBeInstanceOf(Error);
      const m = /internal error \(error id ([0-9a-f-]{36})\)/.exec(e!.message);
      expect(m, e!.message).not.toBeNull();
      expect(e!.message).not.toMatch(INTERNALS);
      const line = logged.find((l) => l.includes(m![1]!));
      expect(line).toBeDefined();
      expect(line).toMatch(/MCP request failed/);
      expect(line).toMatch(/Step/); // the detail is in the log
    }
  });

  it('answers a raw request the same way', async () => {
    const res = await withoutTable('Step', () => rawRequest(h, '/mcp/business_analyst', {
      method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${key}` }, body: rpc('tools/call', { name: 'get_artifact', arguments: { step_id: 'x' } }),
    }));
    expect(res.body).not.toMatch(INTERNALS);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: -32603, message: expect.stringMatching(/^(MCP error -32603: )?internal error \(error id [0-9a-f-]{36}\)$/) } });
  });

  it('answers a failure while checking the key with a generic 500 and an error id', async () => {
    const res = await withoutTable('McpApiKey', () => rawRequest(h, '/mcp/developer', { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${key}` }, body: INIT }));
    expect(res.status).toBe(500);
    expect(res.body).not.toMatch(INTERNALS);
    const { errorId } = JSON.parse(res.body) as { errorId: string };
    expect(errorId).toMatch(/^[0-9a-f-]{36}$/);
    expect(logged.find((l) => l.includes(errorId))).toMatch(/McpApiKey/);
  });
});

describe('mistakes of the client', () => {
  it('are still named (they reveal nothing internal)', async () => {
    const c = await mcpClient(h, 'developer', key);
    await expect(c.getPrompt({ name: 'nope' })).rejects.toThrow(/unknown prompt nope/);
    await expect(c.readResource({ uri: 'rolecall://developer/artifacts/missing' })).rejects.toThrow(/no such resource/);
    await c.close();
    const bad = await rawRequest(h, '/mcp/developer', { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${key}` }, body: '{not json' });
    expect(bad.status).toBe(400);
    expect(bad.body).not.toMatch(INTERNALS);
  });
});
