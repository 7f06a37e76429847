// Role definitions: roles/*.yaml, validated with zod at start-up. A bad file stops start-up with its path and field.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { patternProblem } from './constraints';
import { NO_EXTERNAL_MCP, serverProblem, type ExternalMcpPolicy } from './mcp/external';
import { schemaProblem } from './output-schema';
import { parseYamlFile } from './yaml-file';
import { OperatorError } from './errors';

const jsonSchemaObject = z.record(z.string(), z.unknown()).refine((s) => typeof s.type === 'string' || Array.isArray(s.anyOf) || Array.isArray(s.oneOf), {
  message: 'must be a JSON schema with a type',
});

const forbiddenTopicSchema = z
  .object({
    id: z.string().regex(/^[a-z][a-z0-9_]*$/, 'must be lower_snake_case'),
    description: z.string().min(3),
    patterns: z.array(z.string().min(1)).min(1).superRefine((patterns, ctx) => {
      // RE2 syntax (linear-time matching): a pattern it cannot compile (backreferences, lookaround) is refused here.
      patterns.forEach((p, i) => {
        const problem = patternProblem(p);
        if (problem) ctx.addIssue({ code: 'custom', path: [i], message: `invalid pattern ${JSON.stringify(p)}: ${problem}` });
      });
    }),
  })
  .strict();

const mcpServerSchema = z.discriminatedUnion('transport', [
  z.object({ name: z.string().regex(/^[a-z][a-z0-9_-]*$/), transport: z.literal('streamable_http'), url: z.string().url() }).strict(),
  z.object({ name: z.string().regex(/^[a-z][a-z0-9_-]*$/), transport: z.literal('stdio'), command: z.string().min(1), args: z.array(z.string()).default([]) }).strict(),
]);

export const roleSchema = z
  .object({
    role_id: z.string().regex(/^[a-z][a-z0-9_]*$/, 'must be lower_snake_case'),
    persona: z
      .object({
        display_name: z.string().min(1).max(80),
        icon_emoji: z.string().regex(/^:[a-z0-9_+-]+:$/, 'must look like :emoji_name:').optional(),
        icon_url: z.string().url().optional(),
        style: z.string().min(1),
      })
      .strict()
      .refine((p) => p.icon_emoji || p.icon_url, { message: 'needs icon_emoji or icon_url', path: ['icon_emoji'] }),
    capabilities: z.array(z.string().regex(/^[a-z][a-z0-9_]*$/, 'must be lower_snake_case')).min(1),
    /** Names of other roles' required outputs this role works from (orders assembled flows). */
    inputs: z.array(z.string().regex(/^[a-z][a-z0-9_]*$/)).default([]),
    instructions: z.string().min(20),
    constraints: z
      .object({
        forbidden_topics: z.array(forbiddenTopicSchema).default([]),
        required_outputs: z.array(z.object({ name: z.string().regex(/^[a-z][a-z0-9_]*$/), description: z.string().min(3), schema: jsonSchemaObject }).strict()).min(1),
        max_output_chars: z.number().int().min(200).max(40_000).default(12_000),
        max_retries: z.number().int().min(0).max(5).default(2),
        model_judge: z.boolean().default(false),
      })
      .strict(),
    tools: z
      .object({
        allow: z.array(z.string().regex(/^[a-z][a-z0-9_-]*(\.[a-zA-Z0-9_-]+)?$/, 'must be tool_name or server.tool_name')).default([]),
        mcp_servers: z.array(mcpServerSchema).default([]),
      })
      .strict()
      .default({ allow: [], mcp_servers: [] }),
    approval: z
      .discriminatedUnion('policy', [
        z.object({ policy: z.literal('none') }).strict(),
        z.object({ policy: z.literal('any') }).strict(),
        z.object({ policy: z.literal('rbac_role'), rbac_role: z.enum(['owner', 'admin', 'approver', 'viewer']) }).strict(),
        z.object({ policy: z.literal('quorum'), quorum: z.number().int().min(2).max(20) }).strict(),
      ])
      .default({ policy: 'any' }),
    llm_config: z
      .object({
        provider: z.enum(['openai', 'ollama']),
        model: z.string().min(1),
        temperature: z.number().min(0).max(2).default(0.3),
        fallback_model: z.string().min(1).optional(),
      })
      .strict(),
  })
  .strict()
  .superRefine((role, ctx) => {
    const servers = new Set(role.tools.mcp_servers.map((s) => s.name));
    role.tools.allow.forEach((tool, i) => {
      const server = tool.includes('.') ? tool.split('.')[0]! : undefined;
      if (server && !servers.has(server)) ctx.addIssue({ code: 'custom', path: ['tools', 'allow', i], message: `names MCP server "${server}", which is not in tools.mcp_servers` });
    });
  });

export type Role = z.infer<typeof roleSchema>;

/** A role file that cannot be used: the operator's fault. The message names the file and the field. */
export class RoleDefinitionError extends OperatorError {
}

/** What role files may name beyond Rolecall itself: the operator's allow-lists of external MCP servers. */
export interface RolePolicy {
  externalMcp: ExternalMcpPolicy;
}

export const DEFAULT_ROLE_POLICY: RolePolicy = { externalMcp: NO_EXTERNAL_MCP };

/** The loaded roles, with the policy they were checked against (the role editor checks edits against the same one). */
export class RoleFiles extends Map<string, Role> {
  constructor(readonly policy: RolePolicy) {
    super();
  }
}

/** The policy a set of roles was loaded under; the strictest one for a map that did not come from loadRoles. */
export const policyOf = (roles: Map<string, Role>): RolePolicy => (roles instanceof RoleFiles ? roles.policy : DEFAULT_ROLE_POLICY);

export function loadRoles(dir: string, policy: RolePolicy = DEFAULT_ROLE_POLICY): RoleFiles {
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  const roles = new RoleFiles(policy);
  for (const file of files) {
    const full = path.join(dir, file);
    const role = parseRoleFile(full, readFileSync(full, 'utf8'), policy);
    if (roles.has(role.role_id)) throw new RoleDefinitionError(`${full}: role_id "${role.role_id}" is defined twice`);
    roles.set(role.role_id, role);
  }
  if (roles.size === 0) throw new RoleDefinitionError(`${dir}: no role files (*.yaml) found`);
  return roles;
}

export function parseRoleFile(file: string, text: string, policy: RolePolicy = DEFAULT_ROLE_POLICY): Role {
  const role = parseYamlFile(file, text, roleSchema, (m) => new RoleDefinitionError(m));
  for (const out of role.constraints.required_outputs) {
    const problem = schemaProblem(out.schema) ?? backtrackingKeyword(out.schema);
    if (problem) throw new RoleDefinitionError(`${file}: constraints.required_outputs.${out.name}.schema: ${problem}`);
  }
  const expected = path.basename(file).replace(/\.ya?ml$/, '');
  if (role.role_id !== expected) {
    throw new RoleDefinitionError(`${file}: role_id "${role.role_id}" must match the file name "${expected}"`);
  }
  const refused = role.tools.mcp_servers
    .map((s, i) => ({ i, problem: serverProblem(s, policy.externalMcp) }))
    .filter((x) => x.problem)
    .map(({ i, problem }) => `tools.mcp_servers.${i}.${problem!.field}: ${problem!.message}`);
  if (refused.length) throw new RoleDefinitionError(`${file}: ${refused.join('; ')}`);
  return role;
}

/**
 * JSON-schema keywords that would run a role-supplied regular expression on the model's output in a backtracking
 * engine (ajv compiles `pattern` with RegExp): refused, like forbidden-topic patterns RE2 cannot run.
 */
function backtrackingKeyword(schema: unknown, at = ''): string | undefined {
  if (Array.isArray(schema)) {
    for (const [i, s] of schema.entries()) {
      const p = backtrackingKeyword(s, `${at}/${i}`);
      if (p) return p;
    }
    return undefined;
  }
  if (!schema || typeof schema !== 'object') return undefined;
  for (const [k, v] of Object.entries(schema)) {
    if ((k === 'pattern' && typeof v === 'string') || (k === 'patternProperties' && v && typeof v === 'object')) {
      return `${at}/${k}: regular expressions are not allowed in output schemas (they would not run in linear time); use a forbidden topic instead`;
    }
    if (k === 'format' && v === 'regex') return `${at}/format: "regex" is not allowed in output schemas`;
    const p = backtrackingKeyword(v, `${at}/${k}`);
    if (p) return p;
  }
  return undefined;
}
