// Each role as an MCP server: its persona as a prompt, its allowed tools, and its workflow artifacts as resources.
// What a client sees is cut to its API key's scope: tools and resources outside it are not listed and their calls are
// refused. A handler that fails answers a generic message with an error id; the detail goes to the log.
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema, ErrorCode, GetPromptRequestSchema, ListPromptsRequestSchema, ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema, ListToolsRequestSchema, McpError, ReadResourceRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { systemPrompt } from '../prompt';
import type { Role } from '../roles';
import { toolInScope, type ApiKeyScope } from './api-keys';
import { allowedTools, callTool, type ToolDeps } from './tools';

const artifactUri = (roleId: string, stepId: string) => `rolecall://${roleId}/artifacts/${stepId}`;

export interface RoleServerAccess {
  scope: ApiKeyScope;
  /** Logs an unexpected failure and returns the error id to show the client. */
  failed(e: unknown, method: string): string;
}

export function createRoleMcpServer(role: Role, deps: ToolDeps, access: RoleServerAccess): Server {
  const { scope } = access;
  const server = new Server(
    { name: `rolecall-${role.role_id}`, version: '0.1.0' },
    { capabilities: { tools: {}, prompts: {}, ...(scope.readArtifacts ? { resources: {} } : {}) }, instructions: `${role.persona.display_name}: ${role.capabilities.join(', ')}` },
  );
  // Errors we mean (McpError) reach the client; anything else becomes "internal error (error id …)".
  const handle: typeof server.setRequestHandler = (schema, handler) => server.setRequestHandler(schema, async (req, extra) => {
    try {
      return await handler(req, extra);
    } catch (e) {
      if (e instanceof McpError) throw e;
      throw new McpError(ErrorCode.InternalError, `internal error (error id ${access.failed(e, req.method)})`);
    }
  });
  handle(ListToolsRequestSchema, async () => ({ tools: (await allowedTools(role, deps)).filter((t) => toolInScope(scope, t.name)) }));
  handle(CallToolRequestSchema, async (req) => {
    const name = req.params.name;
    if (!toolInScope(scope, name)) {
      return { content: [{ type: 'text', text: `Refused: this API key may not call the tool "${name}".` }], isError: true };
    }
    return callTool(role, name, (req.params.arguments ?? {}) as Record<string, unknown>, deps);
  });
  handle(ListPromptsRequestSchema, async () => ({
    prompts: [{ name: 'persona', description: `How the ${role.persona.display_name} works and writes` }],
  }));
  handle(GetPromptRequestSchema, async (req) => {
    if (req.params.name !== 'persona') throw new McpError(ErrorCode.InvalidParams, `unknown prompt ${req.params.name}`);
    return { description: role.persona.display_name, messages: [{ role: 'user', content: { type: 'text', text: systemPrompt(role) } }] };
  });
  if (!scope.readArtifacts) return server; // no resources capability: resources/* answer "Method not found"
  handle(ListResourcesRequestSchema, async () => ({
    resources: (await deps.artifacts.list(role.role_id, 50)).map((a) => ({
      uri: artifactUri(role.role_id, a.stepId), name: `${role.role_id} output r${a.revision}: ${a.request.slice(0, 60)}`, mimeType: 'text/markdown',
    })),
  }));
  handle(ListResourceTemplatesRequestSchema, async () => ({
    resourceTemplates: [{ uriTemplate: `rolecall://${role.role_id}/artifacts/{stepId}`, name: `${role.persona.display_name} artifacts`, mimeType: 'text/markdown' }],
  }));
  handle(ReadResourceRequestSchema, async (req) => {
    const m = new RegExp(`^rolecall://${role.role_id}/artifacts/([\\w-]+)$`).exec(req.params.uri);
    const artifact = m ? await deps.artifacts.get(role.role_id, m[1]!) : undefined;
    if (!artifact) throw new McpError(-32002, `no such resource: ${req.params.uri}`);
    return { contents: [{ uri: req.params.uri, mimeType: 'text/markdown', text: artifact.output }] };
  });
  return server;
}
