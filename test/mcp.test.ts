// Each role is an MCP server: tested with the official MCP SDK client over HTTP and the MCP inspector CLI, with an API
// key for every role and scope (test/security/mcp-*.test.ts covers keys, scopes, Host and Origin).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import path from 'node:path';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_ROLES, newApiKey } from '../agents/mcp/api-keys';
import { startHarness, WAIT_MS, waitFor, type Harness } from './support/harness';
import { startLocalServer } from './support/local-server';
import { startThread, waitForGate } from './support/flow';
import { copyRoles, DESIGNER_ROLE } from './support/roles-dir';

const run = promisify(execFile);
let h: Harness;
let external: { url: string; close(): Promise<void>; calls: string[] };
let key: string;
const auth = () => ({ Authorization: `Bearer ${key}` });

beforeAll(async () => {
  external = await startExternalMcpServer();
  const roles = copyRoles();
  roles.add('ux_designer.yaml', DESIGNER_ROLE);
  roles.edit('qa_tester.yaml', (t) => t.replace('tools:\n  allow: [run_task, validate_output, list_artifacts, get_artifact]', `tools:\n  allow: [run_task, validate_output, list_artifacts, get_artifact, bugs.search_bugs]\n  mcp_servers:\n    - name: bugs\n      transport: streamable_http\n      url: ${external.url}`));
  h = await startHarness({ env: { ROLES_DIR: roles.dir, MCP_HTTP_ALLOW: '127.0.0.1' } });
  const k = newApiKey();
  await h.prisma.mcpApiKey.create({ data: { name: 'mcp test', prefix: k.prefix, hash: k.hash, roles: [ALL_ROLES], readArtifacts: true, runTasks: true, createdBy: 'test' } });
  key = k.key;
});
afterAll(async () => {
  await h.close();
  await external.close();
});

async function client(roleId: string): Promise<Client> {
  const c = new Client({ name: 'test', version: '1.0.0' });
  await c.connect(new StreamableHTTPClientTransport(new URL(`${h.url}/mcp/${roleId}`), { requestInit: { headers: auth() } }));
  return c;
}

describe('the role registry', () => {
  it('lists every role file, including one added without code changes, with capabilities and health', async () => {
    const res = await fetch(`${h.url}/mcp`, { headers: auth() });
    const { roles } = (await res.json()) as { roles: { role_id: string; capabilities: string[]; healthy: boolean; mcp_endpoint: string }[] };
    expect(roles.map((r) => r.role_id).sort()).toEqual(['business_analyst', 'developer', 'project_manager', 'qa_tester', 'technical_architect', 'ux_designer']);
    expect(roles.find((r) => r.role_id === 'ux_designer')).toEqual({ role_id: 'ux_designer', display_name: 'UX Designer', capabilities: ['wireframes', 'user_flows'], mcp_endpoint: '/mcp/ux_designer', healthy: true });
    expect((await fetch(`${h.url}/mcp/developer/health`)).status).toBe(200);
    expect((await fetch(`${h.url}/mcp/astronaut/health`)).status).toBe(404);
  });
});

describe('a role as an MCP server', () => {
  it('offers its persona as a prompt and only its allowed tools', async () => {
    const c = await client('business_analyst');
    expect((await c.listTools()).tools.map((t) => t.name).sort()).toEqual(['get_artifact', 'list_artifacts', 'run_task', 'validate_output']);
    const prompt = await c.getPrompt({ name: 'persona' });
    expect((prompt.messages[0]!.content as { text: string }).text).toMatch(/^You are the Business Analyst/);
    expect((await (await client('ux_designer')).listTools()).tools.map((t) => t.name)).toEqual(['validate_output']);
    await c.close();
  });

  it('runs the role on a task through the OpenAI-compatible model and returns schema-valid structured output', async () => {
    const c = await client('technical_architect');
    const res = await c.callTool({ name: 'run_task', arguments: { task: 'design a rate limiter for our API' } });
    expect(res.isError).toBeFalsy();
    const design = (res.structuredContent as any).design_doc;
    expect(design.overview).toBe('Technical Architect says: done for "design a rate limiter for our API"');
    expect(design.components[0]).toEqual({ name: expect.any(String), responsibility: expect.any(String) });
    const check = await c.callTool({ name: 'validate_output', arguments: { output: res.structuredContent as Record<string, unknown> } });
    expect(check.content).toEqual([{ type: 'text', text: 'valid' }]);
    const calls = await h.prisma.llmCall.findMany({ where: { purpose: 'mcp' } });
    expect(calls).toEqual([expect.objectContaining({ roleId: 'technical_architect', workflowId: null, stepId: null, provider: 'openai', model: 'gpt-4o-mini', promptTokens: 100, ok: true })]);
    await c.close();
  });

  it('reports what is wrong with an invalid output', async () => {
    const c = await client('business_analyst');
    const res = await c.callTool({ name: 'validate_output', arguments: { output: { requirements_doc: { problem_statement: 'short', user_stories: [] } } } });
    expect(res.isError).toBe(true);
    const text = (res.content as { text: string }[])[0]!.text;
    expect(text).toContain("must have required property 'open_questions'");
    expect(text).toContain('/requirements_doc/user_stories must NOT have fewer than 1 items');
    await c.close();
  });

  it('refuses a tool that is not on the allow-list and records the refusal', async () => {
    const c = await client('ux_designer');
    const res = await c.callTool({ name: 'run_task', arguments: { task: 'draw the login screen' } });
    expect(res.isError).toBe(true);
    expect((res.content as { text: string }[])[0]!.text).toBe('Refused: UX Designer (ux_designer) may not call the tool "run_task". Allowed: validate_output.');
    const rows = await h.prisma.constraintViolation.findMany({ where: { roleId: 'ux_designer', kind: 'tool' } });
    expect(rows).toEqual([expect.objectContaining({ action: 'refused', detail: 'call to run_task refused: not on the allow-list' })]);
    expect(h.openai.requests.filter((r) => r.messages[0]!.content.includes('UX Designer'))).toHaveLength(0);
    await c.close();
  });

  it('proxies allowed tools of an external MCP server named in the role file', async () => {
    const c = await client('qa_tester');
    expect((await c.listTools()).tools.map((t) => t.name)).toContain('bugs.search_bugs');
    const res = await c.callTool({ name: 'bugs.search_bugs', arguments: { query: 'login' } });
    expect(res.content).toEqual([{ type: 'text', text: 'BUG-1: login fails for "login"' }]);
    expect(external.calls).toEqual(['login']);
    const refused = await c.callTool({ name: 'bugs.delete_all', arguments: {} });
    expect(refused.isError).toBe(true);
    expect(external.calls).toEqual(['login']);
    await c.close();
  });

  it('serves workflow artifacts as resources', async () => {
    const ev = await startThread(h, 'build a feature that lets customers download their invoices');
    await waitForGate(h, ev.ts, 1);
    const step = await waitFor(() => h.prisma.step.findFirst({ where: { roleId: 'business_analyst', workflow: { threadTs: ev.ts }, output: { not: null } } }), 'BA output');
    const c = await client('business_analyst');
    const { resources } = await c.listResources();
    const uri = `rolecall://business_analyst/artifacts/${step.id}`;
    expect(resources.map((r) => r.uri)).toContain(uri);
    const read = await c.readResource({ uri });
    expect((read.contents[0] as { text: string }).text).toBe(step.output);
    const got = await c.callTool({ name: 'get_artifact', arguments: { step_id: step.id } });
    expect((got.content as { text: string }[])[0]!.text).toBe(step.output);
    await c.close();
  });
});

describe('the official MCP inspector CLI', () => {
  it('lists and calls tools of a role as a real client', async () => {
    // The CLI looks for its own package.json relative to the working directory, so it runs from its build folder.
    const cwd = path.resolve('node_modules/@modelcontextprotocol/inspector-cli/build');
    const cli = path.join(cwd, 'index.js');
    const header = ['--header', `Authorization: Bearer ${key}`];
    const list = await run(process.execPath, [cli, `${h.url}/mcp/developer`, '--transport', 'http', ...header, '--method', 'tools/list'], { timeout: WAIT_MS, cwd });
    expect(JSON.parse(list.stdout).tools.map((t: { name: string }) => t.name).sort()).toEqual(['get_artifact', 'list_artifacts', 'run_task', 'validate_output']);
    const call = await run(process.execPath, [cli, `${h.url}/mcp/ux_designer`, '--transport', 'http', ...header, '--method', 'tools/call', '--tool-name', 'run_task', '--tool-arg', 'task=hello'], { timeout: WAIT_MS, cwd });
    const result = JSON.parse(call.stdout);
    expect(result.isError).toBe(true);
    expect(result.content[0].text).toMatch(/^Refused: UX Designer/);
  });
});

async function startExternalMcpServer() {
  const calls: string[] = [];
  const server = await startLocalServer(async (req, res) => {
    const mcp = new McpServer({ name: 'bugs', version: '1.0.0' });
    mcp.registerTool('search_bugs', { description: 'Search bugs', inputSchema: { query: z.string() } }, async ({ query }) => {
      calls.push(query);
      return { content: [{ type: 'text', text: `BUG-1: login fails for "${query}"` }] };
    });
    mcp.registerTool('delete_all', { description: 'Dangerous' }, async () => ({ content: [{ type: 'text', text: 'deleted' }] }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => void transport.close());
    await mcp.connect(transport);
    await transport.handleRequest(req.raw, res, req.body ? JSON.parse(req.body) : undefined);
  });
  return { url: `${server.url}/mcp`, calls, close: server.close };
}
