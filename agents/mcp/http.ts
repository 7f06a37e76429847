// MCP over streamable HTTP on the Hono server: GET /mcp (registry), GET /mcp/:role/health, and /mcp/:role itself.
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { Hono } from 'hono';
import type { RoleRegistry } from './registry';
import { createRoleMcpServer } from './server';
import type { ToolDeps } from './tools';

export function mcpRoutes(registry: RoleRegistry, deps: ToolDeps): Hono {
  const app = new Hono();
  app.get('/mcp', (c) => c.json({ roles: registry.list() }));
  app.get('/mcp/:roleId/health', (c) => {
    const info = registry.health(c.req.param('roleId'));
    if (!info) return c.json({ error: `unknown role ${c.req.param('roleId')}` }, 404);
    return c.json(info, info.healthy ? 200 : 503);
  });
  app.all('/mcp/:roleId', async (c) => {
    const role = registry.get(c.req.param('roleId'));
    if (!role) return c.json({ jsonrpc: '2.0', error: { code: -32001, message: `unknown role ${c.req.param('roleId')}` }, id: null }, 404);
    // Stateless: a fresh server and transport per request, so any server process can answer any request.
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    const server = createRoleMcpServer(role, deps);
    await server.connect(transport);
    const res = await transport.handleRequest(c.req.raw);
    void Promise.resolve().then(() => server.close());
    return res;
  });
  return app;
}
