// Role definitions: roles/*.yaml, validated with zod at start-up. A bad file stops start-up with its path and field.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

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
    instructions: z.string().min(20),
    llm_config: z
      .object({
        provider: z.enum(['openai', 'ollama']),
        model: z.string().min(1),
        temperature: z.number().min(0).max(2).default(0.3),
      })
      .strict(),
  })
  .strict();

export type Role = z.infer<typeof roleSchema>;

/** A role file that cannot be used: the operator's fault. The message names the file and the field. */
export class RoleDefinitionError extends Error {
  override name = 'RoleDefinitionError';
}

export function loadRoles(dir: string): Map<string, Role> {
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  const roles = new Map<string, Role>();
  for (const file of files) {
    const full = path.join(dir, file);
    const role = parseRoleFile(full, readFileSync(full, 'utf8'));
    if (roles.has(role.role_id)) throw new RoleDefinitionError(`${full}: role_id "${role.role_id}" is defined twice`);
    roles.set(role.role_id, role);
  }
  if (roles.size === 0) throw new RoleDefinitionError(`${dir}: no role files (*.yaml) found`);
  return roles;
}

export function parseRoleFile(file: string, text: string): Role {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (e) {
    throw new RoleDefinitionError(`${file}: invalid YAML: ${(e as Error).message}`);
  }
  const parsed = roleSchema.safeParse(data);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new RoleDefinitionError(`${file}: ${issues.join('; ')}`);
  }
  const expected = path.basename(file).replace(/\.ya?ml$/, '');
  if (parsed.data.role_id !== expected) {
    throw new RoleDefinitionError(`${file}: role_id "${parsed.data.role_id}" must match the file name "${expected}"`);
  }
  return parsed.data;
}
