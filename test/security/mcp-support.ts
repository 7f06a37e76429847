// Shared by test/security/mcp-*.test.ts: console users, API keys created through the console as an admin would, MCP SDK
// clients over HTTP, and raw HTTP requests with any Host header (fetch does not let a caller set Host).
import http from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { RbacRole } from '../../generated/prisma/client';
import { upsertAdminUser } from '../../web-admin/auth/bootstrap';
import { adminClient, ORIGIN, type AdminClient } from '../support/admin-client';
import type { Harness } from '../support/harness';

export const PASSWORD = 'a long enough password';

export async function consoleAs(h: Harness, role: RbacRole): Promise<AdminClient> {
  await upsertAdminUser(h.prisma, `${role}@example.com`, PASSWORD, role);
  const c = adminClient(h.runtime.app!);
  const res = await c.signIn(`${role}@example.com`, PASSWORD);
  if (res.status !== 303) throw new Error(`sign-in as ${role} answered ${res.status}`);
  return c;
}

/** Posts a form with repeated fields (e.g. several `roles`), with the session's cookie, CSRF token and Origin. */
export async function postForm(h: Harness, c: AdminClient, path: string, fields: [string, string][], csrf?: string | null): Promise<Response> {
  const token = csrf === undefined ? await c.csrf() : csrf;
  const body = new URLSearchParams([...fields, ...(token === null ? [] : [['_csrf', token] as [string, string]])]);
  return h.runtime.app!.request(`${ORIGIN}${path}`, {
    method: 'POST', redirect: 'manual', body,
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN, cookie: [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
  });
}

export const keyIn = (html: string): string | undefined => /<code id="new-key">(rc_[A-Za-z0-9_-]+)<\/code>/.exec(html)?.[1];

export interface KeyOptions { name?: string; roles: string[]; readArtifacts?: boolean; runTasks?: boolean }

/** Creates a key in the console (as the given admin) and returns the key shown once. */
export async function createKey(h: Harness, admin: AdminClient, o: KeyOptions): Promise<string> {
  const fields: [string, string][] = [['name', o.name ?? 'test key'], ...o.roles.map((r) => ['roles', r] as [string, string])];
  if (o.readArtifacts) fields.push(['readArtifacts', 'on']);
  if (o.runTasks) fields.push(['runTasks', 'on']);
  const res = await postForm(h, admin, '/admin/api-keys', fields);
  const html = await res.text();
  const key = keyIn(html);
  if (res.status !== 201 || !key) throw new Error(`creating a key answered ${res.status}: ${html.slice(0, 300)}`);
  return key;
}

/** An MCP SDK client over streamable HTTP; `key` is sent as a bearer token. */
export async function mcpClient(h: Harness, roleId: string, key?: string, headers: Record<string, string> = {}): Promise<Client> {
  const c = new Client({ name: 'security-test', version: '1.0.0' });
  const all = { ...headers, ...(key ? { Authorization: `Bearer ${key}` } : {}) };
  await c.connect(new StreamableHTTPClientTransport(new URL(`${h.url}/mcp/${roleId}`), { requestInit: { headers: all } }));
  return c;
}

export const rpc = (method: string, params: Record<string, unknown> = {}, id = 1) => JSON.stringify({ jsonrpc: '2.0', id, method, params });
export const INIT = rpc('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } });
export const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' };

/** One HTTP request to the running server with exactly these headers (Host included). */
export function rawRequest(h: Harness, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const url = new URL(h.url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path, method: opts.method ?? 'GET', headers: opts.headers, setHost: !opts.headers?.host }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}
