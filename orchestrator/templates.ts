// Workflow templates: orchestrator/templates/*.yaml, validated at start-up. Each lists its steps (a DAG through
// depends_on), its approval gates, example utterances the intent classifier learns from (in any language), and `asks`:
// phrases that name what the workflow is asked to do ("acceptance criteria", "Fehler"), which outweigh topic words.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseYamlFile } from '../agents/yaml-file';
import { OperatorError } from '../agents/errors';

const id = z.string().regex(/^[a-z][a-z0-9_]*$/, 'must be lower_snake_case');

export const templateSchema = z
  .object({
    id,
    name: z.string().min(3),
    description: z.string().min(10),
    examples: z.array(z.string().min(8).max(2000)).min(5),
    asks: z.array(z.string().min(2).max(100)).max(200).default([]),
    steps: z
      .array(
        z
          .object({
            id,
            role: id,
            depends_on: z.array(id).default([]),
            gate: z.boolean().default(false),
            fallback_roles: z.array(id).default([]),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();

export type WorkflowTemplate = z.infer<typeof templateSchema>;
export type TemplateStep = WorkflowTemplate['steps'][number];

export class TemplateDefinitionError extends OperatorError {
}

export const TEMPLATES_DIR = path.resolve(import.meta.dirname, 'templates');

export function loadTemplates(dir: string, roleIds: Set<string>): WorkflowTemplate[] {
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  const templates = files.map((f) => parseTemplateFile(path.join(dir, f), readFileSync(path.join(dir, f), 'utf8'), roleIds));
  const seen = new Set<string>();
  for (const t of templates) {
    if (seen.has(t.id)) throw new TemplateDefinitionError(`${dir}: template id "${t.id}" is defined twice`);
    seen.add(t.id);
  }
  if (!templates.length) throw new TemplateDefinitionError(`${dir}: no workflow templates (*.yaml) found`);
  return templates;
}

export function parseTemplateFile(file: string, text: string, roleIds: Set<string>): WorkflowTemplate {
  const template = parseYamlFile(file, text, templateSchema, (m) => new TemplateDefinitionError(m));
  const problem = dagProblem(template.steps, roleIds);
  if (problem) throw new TemplateDefinitionError(`${file}: ${problem}`);
  return template;
}

/** Unknown roles, unknown or duplicate step ids, and cycles make a template unusable. */
export function dagProblem(steps: TemplateStep[], roleIds: Set<string>): string | undefined {
  const ids = new Set<string>();
  for (const [i, s] of steps.entries()) {
    if (ids.has(s.id)) return `steps.${i}.id: "${s.id}" is used twice`;
    ids.add(s.id);
    for (const r of [s.role, ...s.fallback_roles]) if (!roleIds.has(r)) return `steps.${i}: role "${r}" is not defined in roles/`;
  }
  for (const [i, s] of steps.entries()) {
    for (const d of s.depends_on) if (!ids.has(d)) return `steps.${i}.depends_on: unknown step "${d}"`;
  }
  return topoOrder(steps) ? undefined : 'steps: depends_on forms a cycle';
}

/** Step ids in an order where every step comes after its dependencies; undefined when there is a cycle. */
export function topoOrder(steps: { id: string; depends_on: string[] }[]): string[] | undefined {
  const order: string[] = [];
  const done = new Set<string>();
  let progress = true;
  while (order.length < steps.length && progress) {
    progress = false;
    for (const s of steps) {
      if (!done.has(s.id) && s.depends_on.every((d) => done.has(d))) {
        order.push(s.id);
        done.add(s.id);
        progress = true;
      }
    }
  }
  return order.length === steps.length ? order : undefined;
}
