// Each role as an MCP server: its persona as a prompt, its allowed tools, and its workflow artifacts as resources.
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema, GetPromptRequestSchema, ListPromptsRequestSchema, ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema, ListToolsRequestSchema, ReadResourceRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { systemPrompt } from '../prompt';
import type { Role } from '../roles';
import { allowedTools, callTool, type ToolDeps } from './tools';

const artifactUri = (roleId: string, stepId: string) => `rolecall://${roleId}/artifacts/${stepId}`;

export function createRoleMcpServer(role: Role, deps: ToolDeps): Server {
  const server = new Server(
    { name: `rolecall-${role.role_id}`, version: '0.1.0' },
    { capabilities: { tools: {}, prompts: {}, resources: {} }, instructions: `${role.persona.display_name}: ${role.capabilities.join(', ')}` },
  );
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: await allowedTools(role) }));
  server.setRequestHandler(CallToolRequestSchema, async (req) => callTool(role, req.params.name, (req.params.arguments ?? {}) as Record<string, unknown>, deps));
  server.setRequestHandler(ListPromptsRequestSchema, async () => ({
    prompts: [{ name: 'persona', description: `How the ${role.persona.display_name} works and writes` }],
  }));
  server.setRequestHandler(GetPromptRequestSchema, async (req) => {
    if (req.params.name !== 'persona') throw new Error(`unknown prompt ${req.params.name}`);
    return { description: role.persona.display_name, messages: [{ role: 'user', content: { type: 'text', text: systemPrompt(role) } }] };
  });
  server.setRequestHandler(ListResourcesRequestSchema, async () => ({
    resources: (await deps.artifacts.list(role.role_id, 50)).map((a) => ({
      uri: artifactUri(role.role_id, a.stepId), name: `${role.role_id} output r${a.revision}: ${a.request.slice(0, 60)}`, mimeType: 'text/markdown',
    })),
  }));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({
    resourceTemplates: [{ uriTemplate: `rolecall://${role.role_id}/artifacts/{stepId}`, name: `${role.persona.display_name} artifacts`, mimeType: 'text/markdown' }],
  }));
  server.setRequestHandler(ReadResourceRequestSchema, async (req) => {
    const m = new RegExp(`^rolecall://${role.role_id}/artifacts/([\\w-]+)$`).exec(req.params.uri);
    const artifact = m ? await deps.artifacts.get(role.role_id, m[1]!) : undefined;
    if (!artifact) throw new Error(`no such resource: ${req.params.uri}`);
    return { contents: [{ uri: req.params.uri, mimeType: 'text/markdown', text: artifact.output }] };
  });
  return server;
}
