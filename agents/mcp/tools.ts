// The role tools Rolecall itself provides, and the allow-list gate every tool call goes through.
import { randomUUID } from 'node:crypto';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { runAgent, type ToolRunner } from '../agent';
import { checkOutput } from '../constraints';
import { DEMO_NOTICE } from '../llm/demo';
import type { LlmRouter } from '../llm/router';
import type { Role } from '../roles';
import { errorMessage } from '../errors';
import { buildOutputFiles } from '../files/outputs/build';
import type { ChatImage } from '../llm/provider';
import type { PromptFile } from '../prompt';
import { callExternalTool, listExternalTools, NO_EXTERNAL_MCP, type ExternalMcpPolicy } from './external';
import type { Artifact, ArtifactStore, RunTaskFileIntake, UsageLog, ViolationLog } from './ports';

/** Where tool problems are reported (the runtime's logger). */
interface ToolLog {
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface ToolDeps {
  llm: LlmRouter;
  artifacts: ArtifactStore;
  violations: ViolationLog;
  usage: UsageLog;
  /** The operator's allow-lists of external MCP servers (default: none may be reached). */
  externalMcp?: ExternalMcpPolicy;
  /** Default: console.warn. */
  log?: ToolLog;
  /** Taking in files given to run_task (like files shared in a thread) and the size limit (FILES_MAX_MB) of the
   *  role's output files; absent: run_task takes no files. */
  files?: { intake: RunTaskFileIntake; maxBytes: number };
  /** Who calls (the MCP API key's prefix), recorded with the files it gives. */
  caller?: string;
}

/** The budget scope of an MCP client's calls: its API key as a workspace of its own. */
const mcpScope = (deps: ToolDeps) => ({ workspace: `mcp:${deps.caller ?? 'unknown'}` });

const consoleLog: ToolLog = { warn: (message, fields) => console.warn(message, fields ?? {}) };

interface BuiltinTool {
  tool: Tool;
  input: z.ZodType;
  run(role: Role, args: any, deps: ToolDeps): Promise<CallToolResult>;
}

/** Files one run_task call may carry, and the characters of one text resource (its file size limit is FILES_MAX_MB). */
export const MCP_MAX_FILES = 5;
const MCP_FILE_TEXT_CHARS = 40_000;
/** A base64 blob of at most 1 GB decoded (FILES_MAX_MB's own cap); the configured limit is checked once decoded. */
const embeddedResource = z.object({
  type: z.literal('resource'),
  resource: z.object({
    uri: z.string().min(1).max(2000),
    mimeType: z.string().max(200).optional(),
    text: z.string().max(MCP_FILE_TEXT_CHARS * 50).optional(),
    blob: z.string().max(Math.ceil((1024 * 1024 * 1024 * 4) / 3)).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64').optional(),
  }).refine((r) => (r.text === undefined) !== (r.blob === undefined), { message: 'needs exactly one of text or blob' }),
});
type EmbeddedFile = z.infer<typeof embeddedResource>;

/** A file's name from its resource URI: the last path segment, without control characters (never a path). */
const nameOfUri = (uri: string, i: number) => {
  const last = uri.split(/[/\\]/).filter(Boolean).at(-1) ?? '';
  let name = last;
  try { name = decodeURIComponent(last); } catch { /* kept as it is */ }
  // eslint-disable-next-line no-control-regex
  name = name.replace(/[\u0000-\u001f\u007f/\\]/g, '').slice(0, 200);
  return name && name !== '.' && name !== '..' ? name : `file-${i + 1}`;
};

/** The call's files, taken like files shared in a thread (deps.files.intake: stored, recorded, read in the parser
 *  threads within the same limits, large ones summarised); a file that cannot be read is skipped and named. */
async function readMcpFiles(role: Role, files: EmbeddedFile[], deps: ToolDeps): Promise<{ files: PromptFile[]; images: ChatImage[]; skipped: string[] } | { error: string }> {
  if (!files.length) return { files: [], images: [], skipped: [] };
  if (!deps.files) return { error: 'This server does not take files (no file store is configured).' };
  const given = files.map((f, i) => ({
    name: nameOfUri(f.resource.uri, i),
    bytes: f.resource.blob !== undefined ? new Uint8Array(Buffer.from(f.resource.blob, 'base64')) : new TextEncoder().encode(f.resource.text ?? ''),
  }));
  const taken = await deps.files.intake.take(given, { role, caller: deps.caller ?? 'unknown', callId: randomUUID() });
  // the summaries' model calls are recorded like the role's own (cost of file processing)
  for (const c of taken.calls) await deps.usage.record({ ...c, roleId: role.role_id, purpose: 'file', scope: mcpScope(deps) });
  return taken;
}

/** The role's output files (role YAML outputs.files) as embedded resources, and what could not be made as text. */
async function outputResources(role: Role, data: Record<string, unknown>, deps: ToolDeps): Promise<CallToolResult['content']> {
  if (!role.outputs.files.length) return [];
  const built = await buildOutputFiles(role.outputs.files, data, { roleName: role.persona.display_name, maxBytes: deps.files?.maxBytes ?? 25 * 1024 * 1024 });
  return [
    ...built.files.map((f) => ({ type: 'resource' as const, resource: { uri: `rolecall://outputs/${role.role_id}/${encodeURIComponent(f.name)}`, mimeType: f.mime, blob: Buffer.from(f.bytes).toString('base64') } })),
    ...built.failures.map((t) => ({ type: 'text' as const, text: t })),
  ];
}

const text = (t: string, isError = false): CallToolResult => ({ content: [{ type: 'text', text: t }], ...(isError ? { isError } : {}) });

const BUILTINS: Record<string, BuiltinTool> = {
  run_task: {
    tool: {
      name: 'run_task',
      description: "Runs this role on a task under its constraints and returns its structured output (or why it was escalated).",
      inputSchema: {
        type: 'object',
        properties: {
          task: { type: 'string', description: 'What the role should do' },
          context: { type: 'string', description: 'Earlier work to build on' },
          files: {
            type: 'array', maxItems: MCP_MAX_FILES,
            description: `Files for the role to read, as MCP embedded resources ({ type: "resource", resource: { uri, mimeType, blob (base64) or text } }); at most ${MCP_MAX_FILES}, each within the server's file size limit. The role's own output files come back as resources.`,
            items: { type: 'object', properties: { type: { const: 'resource' }, resource: { type: 'object', properties: { uri: { type: 'string' }, mimeType: { type: 'string' }, text: { type: 'string' }, blob: { type: 'string' } }, required: ['uri'] } }, required: ['type', 'resource'] },
          },
        },
        required: ['task'],
      },
    },
    input: z.object({ task: z.string().min(3), context: z.string().optional(), files: z.array(embeddedResource).max(MCP_MAX_FILES).optional() }),
    async run(role, args: { task: string; context?: string; files?: EmbeddedFile[] }, deps) {
      // the API key is a workspace of its own for budgets (orchestrator/budgets.ts): a spent one refuses the task
      const spent = await deps.usage.spent?.(mcpScope(deps));
      if (spent) return text(`Refused: this API key's budget is spent (${spent}). Ask an admin to raise it in the console, or wait for the period to end.`, true);
      const read = await readMcpFiles(role, args.files ?? [], deps);
      if ('error' in read) return text(read.error, true);
      const result = await runAgent(role, deps.llm, { request: args.task, previous: args.context ? [{ roleName: 'requester', output: args.context }] : [], threadNotes: [], ...(read.files.length ? { files: read.files } : {}), ...(read.images.length ? { images: read.images } : {}) });
      for (const c of result.calls) await deps.usage.record({ ...c, roleId: role.role_id, purpose: 'mcp', scope: mcpScope(deps) });
      for (const v of result.violations) await deps.violations.record({ roleId: role.role_id, kind: v.kind, detail: v.detail, action: v.action });
      if (result.kind === 'llm_error') {
        // the provider's message can name hosts, paths or account details: it goes to the log, the client gets an id
        const errorId = randomUUID();
        (deps.log ?? consoleLog).warn(`run_task of role ${role.role_id}: the model call failed`, { errorId, role: role.role_id, error: result.error.message });
        return text(`The model call failed (error id ${errorId}); the details are in the server log.`, true);
      }
      if (result.kind === 'question') return text(`The role needs more information: ${result.question}`, true);
      // the demo model's output says so, as in a chat post's model line (views.ts outputView)
      const label = result.model === 'demo' ? [{ type: 'text' as const, text: `model: demo. ${DEMO_NOTICE}` }] : [];
      if (result.kind === 'escalate') {
        const escalated = text(`Escalated: the output broke the role's constraints:\n${result.reasons.map((r) => `- ${r.kind}: ${r.detail}`).join('\n')}\n\n${result.text}`, true);
        return { ...escalated, content: [...escalated.content, ...label], structuredContent: { escalated: true } };
      }
      const out = await outputResources(role, result.data, deps);
      const skipped = read.skipped.length ? [{ type: 'text' as const, text: `Not read: ${read.skipped.join(' ')}` }] : [];
      return { content: [{ type: 'text', text: result.text }, ...label, ...skipped, ...out], structuredContent: result.data };
    },
  },
  validate_output: {
    tool: {
      name: 'validate_output',
      description: "Checks an output object against this role's required output schema and forbidden topics.",
      inputSchema: { type: 'object', properties: { output: { type: 'object', description: 'The output to check' } }, required: ['output'] },
    },
    input: z.object({ output: z.record(z.string(), z.unknown()) }),
    async run(role, args: { output: Record<string, unknown> }) {
      const checked = checkOutput(role, JSON.stringify(args.output)); // bounded: see MAX_ANSWER_CHARS and forbiddenTopicHits
      return checked.ok ? text('valid') : text(`invalid:\n${checked.violations.map((v) => `- ${v.kind}: ${v.detail}`).join('\n')}`, true);
    },
  },
  list_artifacts: {
    tool: {
      name: 'list_artifacts',
      description: 'Lists the latest outputs this role produced in workflows.',
      inputSchema: { type: 'object', properties: { limit: { type: 'number', minimum: 1, maximum: 100 } } },
    },
    input: z.object({ limit: z.number().int().min(1).max(100).default(20) }),
    async run(role, args: { limit: number }, deps) {
      const list = await deps.artifacts.list(role.role_id, args.limit);
      return { content: [{ type: 'text', text: JSON.stringify(list.map(({ output: _o, ...meta }) => meta)) }] };
    },
  },
  get_artifact: {
    tool: {
      name: 'get_artifact',
      description: 'Returns one output of this role by step id.',
      inputSchema: { type: 'object', properties: { step_id: { type: 'string' } }, required: ['step_id'] },
    },
    input: z.object({ step_id: z.string().min(1) }),
    async run(role, args: { step_id: string }, deps) {
      const a = await deps.artifacts.get(role.role_id, args.step_id);
      return a ? text(a.output) : text(`no artifact ${args.step_id} for role ${role.role_id}`, true); // the same answer for one out of scope
    },
  },
};

const BUILTIN_TOOL_NAMES = Object.keys(BUILTINS);

/**
 * The tools a role may call: its allowed built-ins plus the allowed tools of its external MCP servers. A server that
 * cannot be listed (refused by the policy, down, failing) is logged and left out; the other tools are still offered.
 */
export async function allowedTools(role: Role, deps: Pick<ToolDeps, 'externalMcp' | 'log'> = {}): Promise<Tool[]> {
  const allow = new Set(role.tools.allow);
  const tools = BUILTIN_TOOL_NAMES.filter((n) => allow.has(n)).map((n) => BUILTINS[n]!.tool);
  for (const server of role.tools.mcp_servers) {
    const wanted = role.tools.allow.filter((t) => t.startsWith(`${server.name}.`));
    if (!wanted.length) continue;
    let external: Tool[] = [];
    try {
      external = await listExternalTools(server, deps.externalMcp ?? NO_EXTERNAL_MCP);
    } catch (e) {
      (deps.log ?? consoleLog).warn(`MCP server "${server.name}" of role ${role.role_id}: could not list its tools; they are not offered`, { role: role.role_id, server: server.name, error: errorMessage(e) });
    }
    for (const t of external) if (allow.has(`${server.name}.${t.name}`)) tools.push({ ...t, name: `${server.name}.${t.name}` });
  }
  return tools;
}

/** Every tool call goes through here: a tool that is not on the role's allow-list is refused and recorded. */
export async function callTool(role: Role, name: string, args: Record<string, unknown>, deps: ToolDeps, where: { workflowId?: string; stepId?: string } = {}): Promise<CallToolResult> {
  if (!role.tools.allow.includes(name)) {
    await deps.violations.record({ roleId: role.role_id, kind: 'tool', detail: `call to ${name} refused: not on the allow-list`, action: 'refused', ...where });
    return text(`Refused: ${role.persona.display_name} (${role.role_id}) may not call the tool "${name}". Allowed: ${role.tools.allow.join(', ') || 'none'}.`, true);
  }
  const builtin = BUILTINS[name];
  if (builtin) {
    const parsed = builtin.input.safeParse(args ?? {});
    if (!parsed.success) return text(`Invalid arguments for ${name}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(args)'}: ${i.message}`).join('; ')}`, true);
    return builtin.run(role, parsed.data, deps);
  }
  const [serverName, ...rest] = name.split('.');
  const server = role.tools.mcp_servers.find((s) => s.name === serverName);
  if (!server || !rest.length) return text(`Unknown tool ${name}`, true);
  try {
    return (await callExternalTool(server, deps.externalMcp ?? NO_EXTERNAL_MCP, rest.join('.'), args ?? {})) as CallToolResult;
  } catch (e) {
    const errorId = randomUUID();
    (deps.log ?? consoleLog).warn(`MCP server "${server.name}" of role ${role.role_id}: call to ${name} failed`, { errorId, role: role.role_id, server: server.name, tool: name, error: errorMessage(e), ...where });
    return text(`The tool ${name} failed (error id ${errorId}); the details are in the server log.`, true);
  }
}

/** Model-facing names cannot contain dots: `server.tool` is offered as `server__tool`. */
const toModelName = (name: string) => name.replace(/\./g, '__');
const fromModelName = (name: string) => name.replace(/__/g, '.');

/**
 * The artifacts a role may read while it works on a step of one workflow: its outputs in that workflow, never another
 * workflow's (another thread's, another channel's). Whatever the model is talked into asking for, the answer comes
 * from this workflow only, and another workflow's step is answered exactly like one that does not exist.
 */
function workflowArtifacts(store: ArtifactStore, workflowId: string): ArtifactStore {
  // scoped in the query; the check on what comes back guards against a store that ignores the scope
  const mine = (a: Artifact | undefined) => (a && a.workflowId === workflowId ? a : undefined);
  return {
    list: async (roleId, limit) => (await store.list(roleId, limit, { workflowId })).filter((a) => mine(a)),
    get: async (roleId, stepId) => mine(await store.get(roleId, stepId, { workflowId })),
  };
}

/** The allow-listed tools (except run_task, which would recurse) for a role working on a workflow step. */
export function stepToolRunner(toolDeps: ToolDeps, where: { workflowId: string; stepId: string }): ToolRunner {
  const deps: ToolDeps = { ...toolDeps, artifacts: workflowArtifacts(toolDeps.artifacts, where.workflowId) };
  return {
    specs: async (role) =>
      (await allowedTools(role, deps))
        .filter((t) => t.name !== 'run_task')
        .map((t) => ({ name: toModelName(t.name), description: t.description ?? t.name, parameters: t.inputSchema as Record<string, unknown> })),
    call: async (role, name, args) => {
      if (fromModelName(name) === 'run_task') return 'ERROR: run_task is not available while the role works on a step.';
      const result = await callTool(role, fromModelName(name), args, deps, where);
      const text = (result.content as { type: string; text?: string }[]).map((c) => c.text ?? '').join('\n');
      return result.isError ? `ERROR: ${text}` : text;
    },
  };
}
