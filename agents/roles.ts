// Role definitions: roles/*.yaml, validated at start-up against the schema (role-schema.ts), then against what needs
// other modules (RE2 patterns, output schemas, the external-MCP policy). A bad file stops start-up with its path and field.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { patternProblem } from './constraints';
import { secretRules } from './checks/secrets';
import { NO_EXTERNAL_MCP, serverProblem, type ExternalMcpPolicy } from './mcp/external';
import { schemaProblem } from './output-schema';
import { parseYamlFile } from './yaml-file';
import { OperatorError } from './errors';
import { roleSchema, type Role } from './role-schema';

export type { Role } from './role-schema';

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
  // The secret rules are read at start-up (a broken rule file stops it), not by the first check of a step.
  if ([...roles.values()].some((r) => r.constraints.forbidden_topics.some((t) => t.detector === 'secrets'))) secretRules();
  return roles;
}

export function parseRoleFile(file: string, text: string, policy: RolePolicy = DEFAULT_ROLE_POLICY): Role {
  const role = parseYamlFile(file, text, roleSchema, (m) => new RoleDefinitionError(m));
  // RE2 syntax (linear-time matching): a pattern it cannot compile (backreferences, lookaround) is refused here.
  const badPatterns = role.constraints.forbidden_topics.flatMap((t, i) =>
    t.patterns.flatMap((p, j) => {
      const problem = patternProblem(p);
      return problem ? [`constraints.forbidden_topics.${i}.patterns.${j}: invalid pattern ${JSON.stringify(p)}: ${problem}`] : [];
    }),
  );
  if (badPatterns.length) throw new RoleDefinitionError(`${file}: ${badPatterns.join('; ')}`);
  for (const out of role.constraints.required_outputs) {
    const problem = schemaProblem(out.schema) ?? backtrackingKeyword(out.schema);
    if (problem) throw new RoleDefinitionError(`${file}: constraints.required_outputs.${out.name}.schema: ${problem}`);
  }
  const outputNames = new Set(role.constraints.required_outputs.map((o) => o.name));
  role.outputs.files.forEach((f, i) => {
    const head = f.from.split('.')[0]!;
    if (!outputNames.has(head)) throw new RoleDefinitionError(`${file}: outputs.files.${i}.from: "${head}" is not one of constraints.required_outputs (${[...outputNames].join(', ')})`);
  });
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
