// MCP over streamable HTTP on the Hono server: GET /mcp (registry), GET /mcp/:role/health, and /mcp/:role itself.
// Every /mcp path checks Host and Origin first (DNS rebinding, 403). The registry and the role servers need an API key
// (`Authorization: Bearer rc_…`, 401 without one) scoped to the role (403 otherwise); health is public and says only
// whether the role is up. Failures answer a generic message with an error id; the detail goes to the log.
import { randomUUID } from 'node:crypto';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { errorStack } from '../errors';
import { authenticate, mayUseRole, type ApiKeyRecord, type ApiKeyStore } from './api-keys';
import type { HostPolicy } from './hosts';
import type { RoleRegistry } from './registry';
import { createRoleMcpServer } from './server';
import type { ToolDeps } from './tools';

interface McpLog {
  warn(msg: string, extra?: Record<string, unknown>): void;
  error(msg: string, extra?: Record<string, unknown>): void;
}

export interface McpAccess {
  keys: ApiKeyStore;
  hosts: HostPolicy;
  log: McpLog;
}

type McpEnv = { Variables: { apiKey: ApiKeyRecord } };

const rpcError = (c: Context, status: ContentfulStatusCode, code: number, message: string, headers?: Record<string, string>) =>
  c.json({ jsonrpc: '2.0', error: { code, message }, id: null }, status, headers);

export function mcpRoutes(registry: RoleRegistry, deps: ToolDeps, access: McpAccess): Hono {
  const app = new Hono<McpEnv>();

  const sameHost: MiddlewareHandler<McpEnv> = async (c, next) => {
    if (!access.hosts.hostAllowed(c.req.header('host'))) return rpcError(c, 403, -32000, 'Forbidden: Host is not a public host of this server');
    if (!access.hosts.originAllowed(c.req.header('origin'))) return rpcError(c, 403, -32000, 'Forbidden: Origin not allowed');
    await next();
  };
  app.use('/mcp', sameHost);
  app.use('/mcp/*', sameHost);

  app.get('/mcp/:roleId/health', (c) => {
    const info = registry.health(c.req.param('roleId'));
    if (!info) return c.json({ error: 'unknown role' }, 404);
    return c.json({ role_id: info.role_id, healthy: info.healthy }, info.healthy ? 200 : 503);
  });

  const apiKey: MiddlewareHandler<McpEnv> = async (c, next) => {
    const auth = await authenticate(access.keys, c.req.header('authorization'));
    if (!auth.ok) {
      const message = auth.reason === 'missing' ? 'Unauthorized: send an API key as "Authorization: Bearer rc_…"' : 'Unauthorized: unknown, expired or revoked API key';
      return rpcError(c, 401, -32001, message, { 'WWW-Authenticate': `Bearer realm="rolecall-mcp"${auth.reason === 'invalid' ? ', error="invalid_token"' : ''}` });
    }
    c.set('apiKey', auth.key);
    await next();
  };
  app.use('/mcp', apiKey);
  app.use('/mcp/:roleId', apiKey);

  app.get('/mcp', (c) => c.json({
    roles: registry.list().filter((r) => mayUseRole(c.get('apiKey'), r.role_id)).map(({ problem: _p, ...r }) => r),
  }));

  app.all('/mcp/:roleId', async (c) => {
    const key = c.get('apiKey');
    const roleId = c.req.param('roleId');
    const role = registry.get(roleId);
    if (!role) return rpcError(c, 404, -32001, 'unknown role');
    if (!mayUseRole(key, roleId)) return rpcError(c, 403, -32001, 'Forbidden: this API key is not scoped to this role');
    const failed = (e: unknown, method: string) => {
      const errorId = randomUUID();
      access.log.error('MCP request failed', { errorId, role: roleId, method, key: key.prefix, error: errorStack(e) });
      return errorId;
    };
    // Stateless: a fresh server and transport per request, so any server process can answer any request.
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    const server = createRoleMcpServer(role, { ...deps, caller: key.prefix }, { scope: key, failed }); // caller: recorded with files given to run_task
    await server.connect(transport);
    const res = await transport.handleRequest(c.req.raw);
    void Promise.resolve().then(() => server.close());
    return res;
  });
  return app as unknown as Hono;
}
