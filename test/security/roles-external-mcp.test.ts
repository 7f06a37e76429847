// Security: editing a role must not run commands on the host or reach internal addresses. A role's external MCP servers
// are spawned / connected to when anyone lists the role's tools, so: stdio commands only from MCP_STDIO_COMMANDS (exact
// command lines), HTTP servers only on MCP_HTTP_ALLOW hosts and never at a private, loopback or link-local address
// that is not listed; the console refuses anything else inline; start-up refuses such a file; changing tools or
// approval needs the console owner role; and failures to list an external server's tools are logged.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../app/config';
import { startRuntime } from '../../app/runtime';
import { specialAddress } from '../../agents/mcp/external';
import { createLogger } from '../../orchestrator/log';
import { upsertAdminUser } from '../../web-admin/auth/bootstrap';
import { adminClient, type AdminClient } from '../support/admin-client';
import { startHarness, waitFor, type Harness } from '../support/harness';
import { copyRoles } from '../support/roles-dir';

const SECRET = 'test-admin-session-secret-0123456789abcdef';
const PASSWORD = 'a long enough password';
const TOOLS_LINE = 'tools:\n  allow: [run_task, validate_output, list_artifacts, get_artifact]\n';

let h: Harness;
let app: Hono;
let roles: ReturnType<typeof copyRoles>;
let canary: { url: string; port: number; hits: string[]; close(): Promise<void> };
let external: { url: string; port: number; close(): Promise<void> };
let work: string;
let stdioServer: string;
let logged: string[];
const as: Record<'owner' | 'admin', AdminClient> = {} as never;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'rolecall-sec-'));
  stdioServer = path.join(work, 'stdio-server.mjs');
  writeFileSync(stdioServer, stdioServerSource());
  canary = await startCanary();
  external = await startExternalMcpServer();
  roles = copyRoles();
  // Loaded at start-up: allowed by name, but the name resolves to a loopback address only a connection attempt reveals.
  roles.edit('technical_architect.yaml', (t) => t.replace(TOOLS_LINE, `tools:\n  allow: [validate_output, inner.anything]\n  mcp_servers:\n    - { name: inner, transport: streamable_http, url: "http://localhost:${canary.port}/mcp" }\n`));
  logged = [];
  h = await startHarness({
    worker: false,
    log: createLogger('warn', (line) => void logged.push(line)),
    env: {
      ADMIN_SESSION_SECRET: SECRET, ROLES_DIR: roles.dir, LOG_LEVEL: 'warn',
      MCP_STDIO_COMMANDS: `node ${stdioServer}, npx -y some-approved-server`,
      MCP_HTTP_ALLOW: `localhost, 127.0.0.1:${external.port}, mcp.example.com`,
    },
  });
  app = h.runtime.app!;
  for (const role of ['owner', 'admin'] as const) {
    await upsertAdminUser(h.prisma, `${role}@example.com`, PASSWORD, role);
    as[role] = adminClient(app);
    expect((await as[role].signIn(`${role}@example.com`, PASSWORD)).status).toBe(303);
  }
});
afterAll(async () => {
  await h?.close();
  await canary?.close();
  await external?.close();
});

const fileText = (roleId: string) => readFileSync(path.join(roles.dir, `${roleId}.yaml`), 'utf8');
const withTools = (yaml: string, tools: string) => yaml.replace(TOOLS_LINE, tools);
const html = (s: string) => s.replace(/&quot;|&#34;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');

async function save(who: 'owner' | 'admin', roleId: string, yaml: string) {
  const res = await as[who].post(`/admin/roles/${roleId}`, { yaml });
  return { status: res.status, page: html(await res.text()) };
}

/** An API key for the MCP endpoints when this build has them (sent as a header; ignored where there are none). */
async function mcpHeaders(): Promise<Record<string, string>> {
  const keys = (h.prisma as unknown as Record<string, { create?: (a: unknown) => Promise<unknown> }>).mcpApiKey;
  if (!keys?.create) return {};
  const key = `rc_${randomBytes(32).toString('base64url')}`;
  await keys.create({ data: { name: 'security test', prefix: key.slice(0, 11), hash: createHash('sha256').update(key).digest('hex'), roles: ['*'], readArtifacts: true, runTasks: true, createdBy: 'test' } });
  return { authorization: `Bearer ${key}` };
}

async function toolNames(roleId: string): Promise<string[]> {
  const c = new Client({ name: 'security-test', version: '1.0.0' });
  await c.connect(new StreamableHTTPClientTransport(new URL(`${h.url}/mcp/${roleId}`), { requestInit: { headers: await mcpHeaders() } }));
  const names = (await c.listTools()).tools.map((t) => t.name);
  await c.close();
  return names;
}

async function callAs(roleId: string, name: string) {
  const c = new Client({ name: 'security-test', version: '1.0.0' });
  await c.connect(new StreamableHTTPClientTransport(new URL(`${h.url}/mcp/${roleId}`), { requestInit: { headers: await mcpHeaders() } }));
  const res = await c.callTool({ name, arguments: {} });
  await c.close();
  return res;
}

describe('stdio MCP servers in the role editor', () => {
  it('refuses a command that is not on MCP_STDIO_COMMANDS, for an owner too, and nothing runs when the tools are listed', async () => {
    const marker = path.join(work, 'pwned');
    const before = fileText('developer');
    const evil = withTools(before, `tools:\n  allow: [validate_output, pwn.x]\n  mcp_servers:\n    - { name: pwn, transport: stdio, command: sh, args: ['-c', 'touch ${marker}'] }\n`);
    for (const who of ['admin', 'owner'] as const) {
      const { status, page } = await save(who, 'developer', evil);
      expect(status, who).toBe(422);
      expect(page).toContain(`tools.mcp_servers.0.command: the stdio command "sh -c touch ${marker}" is not allowed`);
      expect(page).toContain('MCP_STDIO_COMMANDS');
    }
    expect(fileText('developer')).toBe(before);
    expect(h.runtime.deps.roles.get('developer')!.tools.mcp_servers).toEqual([]);
    await toolNames('developer');
    await new Promise((r) => setTimeout(r, 300));
    expect(existsSync(marker)).toBe(false);
  });

  it('matches the exact command line: an allowed command with other arguments is refused', async () => {
    const evil = withTools(fileText('developer'), `tools:\n  allow: [validate_output, local.hello]\n  mcp_servers:\n    - { name: local, transport: stdio, command: node, args: ['-e', 'process.exit(0)', '${stdioServer}'] }\n`);
    const { status, page } = await save('owner', 'developer', evil);
    expect(status).toBe(422);
    expect(page).toContain('is not allowed: stdio MCP servers may run only the exact commands');
  });

  it('an owner may add an allowed command; its tools are then listed and proxied', async () => {
    const ok = withTools(fileText('developer'), `tools:\n  allow: [validate_output, local.hello]\n  mcp_servers:\n    - { name: local, transport: stdio, command: node, args: ['${stdioServer}'] }\n`);
    const { status } = await save('owner', 'developer', ok);
    expect(status).toBe(303);
    expect(await toolNames('developer')).toEqual(['validate_output', 'local.hello']);
    const res = await callAs('developer', 'local.hello');
    expect(res.content).toEqual([{ type: 'text', text: 'hello from an approved stdio server' }]);
  });
});

describe('who may change tools and approval', () => {
  it('an admin may not change a role\'s tools or approval; an owner may; an admin may still edit other fields', async () => {
    const before = fileText('project_manager');
    const fewerTools = before.replace('allow: [run_task, validate_output, list_artifacts, get_artifact]', 'allow: [run_task, validate_output]');
    const noApproval = before.replace(/approval:\n  policy: \w+\n/, 'approval:\n  policy: rbac_role\n  rbac_role: viewer\n');
    expect(fewerTools).not.toBe(before);
    expect(noApproval).not.toBe(before);
    for (const [what, yaml] of [['tools', fewerTools], ['approval', noApproval]] as const) {
      const { status, page } = await save('admin', 'project_manager', yaml);
      expect(status, what).toBe(403);
      expect(page).toContain(`Changing ${what} needs the owner role; you are admin. Nothing was saved.`);
      expect(fileText('project_manager')).toBe(before);
    }
    const renamed = before.replace(/display_name: .*/, 'display_name: Delivery Manager');
    expect((await save('admin', 'project_manager', renamed)).status).toBe(303);
    expect(h.runtime.deps.roles.get('project_manager')!.persona.display_name).toBe('Delivery Manager');
    expect((await save('owner', 'project_manager', renamed.replace(/approval:\n  policy: \w+\n/, 'approval:\n  policy: rbac_role\n  rbac_role: viewer\n'))).status).toBe(303);
    expect(h.runtime.deps.roles.get('project_manager')!.approval).toEqual({ policy: 'rbac_role', rbac_role: 'viewer' });
  });

  it('an admin\'s new stdio server is refused even when its command is allowed (tools need the owner)', async () => {
    const yaml = withTools(fileText('qa_tester'), `tools:\n  allow: [validate_output, local.hello]\n  mcp_servers:\n    - { name: local, transport: stdio, command: node, args: ['${stdioServer}'] }\n`);
    const { status, page } = await save('admin', 'qa_tester', yaml);
    expect(status).toBe(403);
    expect(page).toContain('Changing tools needs the owner role');
  });
});

describe('HTTP MCP servers (SSRF)', () => {
  const httpServer = (url: string) => withTools(fileText('qa_tester'), `tools:\n  allow: [validate_output, bugs.search_bugs]\n  mcp_servers:\n    - { name: bugs, transport: streamable_http, url: "${url}" }\n`);

  it.each([
    ['the cloud metadata address', 'http://169.254.169.254/latest/meta-data/', 'the host "169.254.169.254" is not allowed: HTTP MCP servers must be on a host listed in MCP_HTTP_ALLOW'],
    ['an unlisted internal name', 'http://db.internal:5432/', 'the host "db.internal:5432" is not allowed'],
    ['an allowed address on another port', 'http://127.0.0.1:1/mcp', 'the host "127.0.0.1:1" is not allowed'],
    ['an IPv4-mapped IPv6 loopback', 'http://[::ffff:127.0.0.1]:CANARY/mcp', 'is not allowed'],
    ['IPv6 loopback', 'http://[::1]:CANARY/mcp', 'is not allowed'],
    ['a file URL', 'file:///etc/passwd', 'must be http: or https:'],
    ['a listed name that resolves to a loopback address', 'http://localhost:CANARY/mcp', 'localhost resolves to 127.0.0.1, a loopback address; list that address (or its network) in MCP_HTTP_ALLOW to allow it'],
  ])('refuses %s inline and never connects', async (_what, url, message) => {
    const before = fileText('qa_tester');
    const { status, page } = await save('owner', 'qa_tester', httpServer(url.replace('CANARY', String(canary.port))));
    expect(status).toBe(422);
    expect(page).toContain(message);
    expect(fileText('qa_tester')).toBe(before);
    expect(canary.hits).toEqual([]);
  });

  it('connects to a listed host and address, and proxies its allowed tools', async () => {
    const { status } = await save('owner', 'qa_tester', httpServer(external.url));
    expect(status).toBe(303);
    expect(await toolNames('qa_tester')).toEqual(['validate_output', 'bugs.search_bugs']);
  });

  it('a file loaded at start-up whose name resolves to loopback: tools/list does not connect, and the refusal is logged', async () => {
    logged.length = 0;
    expect(await toolNames('technical_architect')).toEqual(['validate_output']);
    const res = await callAs('technical_architect', 'inner.anything');
    expect(res.isError).toBe(true);
    expect(canary.hits).toEqual([]);
    // log lines are JSON objects (pino): {"level":"warn","msg":"…",…}
    const entries = () => logged.map((l) => JSON.parse(l) as Record<string, unknown>);
    const entry = await waitFor(() => entries().find((e) => String(e.msg).includes('MCP server "inner" of role technical_architect: could not list its tools')), 'the warning');
    expect(entry.level).toBe('warn');
    expect(JSON.stringify(entry)).toContain('resolves to 127.0.0.1, a loopback address');
  });

  it('classifies every special address, IPv4 and IPv6, including IPv4-mapped ones', () => {
    for (const a of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fe80::1', 'fd00::1', 'fc00::1',
      '::ffff:127.0.0.1', '::ffff:7f00:1', '0:0:0:0:0:ffff:a9fe:a9fe', '::ffff:10.0.0.1', '64:ff9b::a9fe:a9fe', '2002:7f00:1::', 'ff02::1', '224.0.0.1']) {
      expect(specialAddress(a), a).toBeDefined();
    }
    for (const a of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) expect(specialAddress(a), a).toBeUndefined();
  });
});

describe('role files at start-up', () => {
  const start = (dir: string, env: Record<string, string> = {}) =>
    startRuntime(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', ROLES_DIR: dir, ...env }), { server: false, worker: false, migrate: false }, createLogger('silent'));

  it('a stdio command that is not allowed stops start-up with an error naming the file', async () => {
    const r = copyRoles();
    r.edit('developer.yaml', (t) => withTools(t, `tools:\n  allow: [validate_output, pwn.x]\n  mcp_servers:\n    - { name: pwn, transport: stdio, command: sh, args: ['-c', 'id'] }\n`));
    await expect(start(r.dir, { MCP_STDIO_COMMANDS: 'node server.js' })).rejects.toThrow(`${r.dir}/developer.yaml: tools.mcp_servers.0.command: the stdio command "sh -c id" is not allowed`);
  });

  it('an HTTP server on a host that is not allowed stops start-up with an error naming the file', async () => {
    const r = copyRoles();
    r.edit('developer.yaml', (t) => withTools(t, `tools:\n  allow: [validate_output, meta.x]\n  mcp_servers:\n    - { name: meta, transport: streamable_http, url: "http://169.254.169.254/" }\n`));
    await expect(start(r.dir)).rejects.toThrow(`${r.dir}/developer.yaml: tools.mcp_servers.0.url: the host "169.254.169.254" is not allowed`);
  });

  it('a bad MCP_HTTP_ALLOW entry is a configuration error', () => {
    expect(() => loadConfig({ MCP_HTTP_ALLOW: 'ok.example.com, 10.0.0.0/99' })).toThrow(/MCP_HTTP_ALLOW: "10.0.0.0\/99": the network prefix must be 0-32/);
  });
});

function stdioServerSource(): string {
  const sdk = (p: string) => pathToFileURL(path.resolve('node_modules/@modelcontextprotocol/sdk/dist/esm', p)).href;
  return `import { McpServer } from '${sdk('server/mcp.js')}';
import { StdioServerTransport } from '${sdk('server/stdio.js')}';
const server = new McpServer({ name: 'approved', version: '1.0.0' });
server.registerTool('hello', { description: 'Says hello' }, async () => ({ content: [{ type: 'text', text: 'hello from an approved stdio server' }] }));
await server.connect(new StdioServerTransport());
`;
}

/** Records any request at all: a request here is a successful SSRF. */
async function startCanary() {
  const hits: string[] = [];
  const server = http.createServer((req, res) => { hits.push(`${req.method} ${req.url}`); res.writeHead(500).end(); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/mcp`, port, hits, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

async function startExternalMcpServer() {
  const server = http.createServer(async (req, res) => {
    const mcp = new McpServer({ name: 'bugs', version: '1.0.0' });
    mcp.registerTool('search_bugs', { description: 'Search bugs' }, async () => ({ content: [{ type: 'text', text: 'BUG-1' }] }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => void transport.close());
    await mcp.connect(transport);
    let raw = '';
    for await (const chunk of req) raw += chunk;
    await transport.handleRequest(req, res, raw ? JSON.parse(raw) : undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/mcp`, port, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}
