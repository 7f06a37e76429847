// Security: an API key reaches only what it is scoped to. Over real HTTP with the MCP SDK client and raw requests: a
// key for one role cannot use another; a key without "read artifacts" sees no artifact tools or resources and cannot
// read a workflow's request or output; a key without "run tasks" cannot call run_task (no model call is made).
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, waitFor, type Harness } from '../support/harness';
import { startThread, waitForGate } from '../support/flow';
import { consoleAs, createKey, MCP_HEADERS, mcpClient, rawRequest, rpc } from './mcp-support';

let h: Harness;
let step: { id: string; output: string | null; workflow: { requestText: string } };
const keys = {} as Record<'baReader' | 'runner' | 'validateOnly', string>;

beforeAll(async () => {
  h = await startHarness();
  const admin = await consoleAs(h, 'admin');
  keys.baReader = await createKey(h, admin, { name: 'ba reader', roles: ['business_analyst'], readArtifacts: true });
  keys.runner = await createKey(h, admin, { name: 'runner', roles: ['*'], runTasks: true });
  keys.validateOnly = await createKey(h, admin, { name: 'validate only', roles: ['business_analyst', 'developer'] });
  const ev = await startThread(h, 'build a feature that lets customers download their invoices as PDF');
  await waitForGate(h, ev.ts, 1);
  step = await waitFor(() => h.prisma.step.findFirst({ where: { roleId: 'business_analyst', workflow: { threadTs: ev.ts }, output: { not: null } }, include: { workflow: true } }), 'BA output');
});
afterAll(async () => { await h?.close(); });

const text = (r: Record<string, unknown>) => (r.content as { text?: string }[]).map((c) => c.text ?? '').join('\n');
const uri = () => `rolecall://business_analyst/artifacts/${step.id}`;

async function using<T>(roleId: string, key: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = await mcpClient(h, roleId, key);
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
}

describe('role scope', () => {
  it('a key for one role lists only that role and cannot reach another', async () => {
    const reg = await fetch(`${h.url}/mcp`, { headers: { authorization: `Bearer ${keys.baReader}` } });
    expect(((await reg.json()) as { roles: { role_id: string }[] }).roles.map((r) => r.role_id)).toEqual(['business_analyst']);
    await expect(mcpClient(h, 'developer', keys.baReader)).rejects.toThrow(/403|Forbidden/);
    for (const roleId of ['developer', 'technical_architect']) {
      const res = await fetch(`${h.url}/mcp/${roleId}`, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${keys.baReader}` }, body: rpc('tools/call', { name: 'list_artifacts', arguments: {} }) });
      expect(res.status).toBe(403);
      expect(await res.text()).not.toContain(step.workflow.requestText);
    }
    // the role it does have works
    const listed = await using('business_analyst', keys.baReader, (c) => c.callTool({ name: 'get_artifact', arguments: { step_id: step.id } }));
    expect(text(listed)).toBe(step.output);
  });
});

describe('without "read artifacts"', () => {
  it('the artifact tools and resources are not offered and their calls are refused', async () => {
    for (const key of [keys.runner, keys.validateOnly]) {
      await using('business_analyst', key, async (c) => {
        const tools = (await c.listTools()).tools.map((t) => t.name);
        expect(tools).not.toContain('list_artifacts');
        expect(tools).not.toContain('get_artifact');
        expect(c.getServerCapabilities()?.resources).toBeUndefined();
        const got = await c.callTool({ name: 'get_artifact', arguments: { step_id: step.id } });
        expect(got.isError).toBe(true);
        expect(text(got)).not.toContain(step.output!);
        const list = await c.callTool({ name: 'list_artifacts', arguments: {} });
        expect(list.isError).toBe(true);
        expect(text(list)).not.toContain(step.id);
      });
    }
    // a client that ignores the capabilities and asks anyway
    for (const body of [rpc('resources/list'), rpc('resources/read', { uri: uri() }), rpc('resources/templates/list')]) {
      const res = await rawRequest(h, '/mcp/business_analyst', { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${keys.runner}` }, body });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toMatchObject({ error: { code: -32601 } });
      expect(res.body).not.toContain(step.id);
      expect(res.body).not.toContain(step.workflow.requestText.slice(0, 30));
    }
  });

  it('a key with it reads the resources', async () => {
    await using('business_analyst', keys.baReader, async (c) => {
      expect((await c.listResources()).resources.map((r) => r.uri)).toContain(uri());
      expect(((await c.readResource({ uri: uri() })).contents[0] as { text: string }).text).toBe(step.output);
    });
  });
});

describe('without "run tasks"', () => {
  it('run_task is not offered and a call makes no model call', async () => {
    const before = { openai: h.openai.requests.length, calls: await h.prisma.llmCall.count({ where: { purpose: 'mcp' } }) };
    for (const key of [keys.baReader, keys.validateOnly]) {
      await using('business_analyst', key, async (c) => {
        expect((await c.listTools()).tools.map((t) => t.name)).not.toContain('run_task');
        const res = await c.callTool({ name: 'run_task', arguments: { task: 'write the requirements for a login page' } });
        expect(res.isError).toBe(true);
        expect(text(res)).toMatch(/^Refused: this API key may not call the tool "run_task"/);
        expect(res.structuredContent).toBeUndefined();
      });
    }
    expect(h.openai.requests.length).toBe(before.openai);
    expect(await h.prisma.llmCall.count({ where: { purpose: 'mcp' } })).toBe(before.calls);
    // validate_output needs no scope
    await using('developer', keys.validateOnly, async (c) => expect((await c.listTools()).tools.map((t) => t.name)).toEqual(['validate_output']));
  });

  it('a key with it runs a task', async () => {
    const res = await using('technical_architect', keys.runner, (c) => c.callTool({ name: 'run_task', arguments: { task: 'design a rate limiter for our API' } }));
    expect(res.isError).toBeFalsy();
    expect(await h.prisma.llmCall.count({ where: { purpose: 'mcp', roleId: 'technical_architect' } })).toBe(1);
  });
});
