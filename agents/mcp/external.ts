// Calls tools of external MCP servers named in a role file (streamable HTTP or stdio).
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Role } from '../roles';

type ServerSpec = Role['tools']['mcp_servers'][number];

async function withClient<T>(spec: ServerSpec, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ name: 'rolecall', version: '0.1.0' });
  const transport = spec.transport === 'stdio'
    ? new StdioClientTransport({ command: spec.command, args: spec.args })
    : new StreamableHTTPClientTransport(new URL(spec.url));
  await client.connect(transport);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

export async function listExternalTools(spec: ServerSpec): Promise<Tool[]> {
  return withClient(spec, async (c) => (await c.listTools()).tools);
}

export async function callExternalTool(spec: ServerSpec, tool: string, args: Record<string, unknown>) {
  return withClient(spec, (c) => c.callTool({ name: tool, arguments: args }));
}
