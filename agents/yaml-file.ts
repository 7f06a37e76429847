// Reads one YAML definition file against a zod schema; every problem names the file and the field.
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { errorMessage } from './errors';

export function parseYamlFile<S extends z.ZodType>(file: string, text: string, schema: S, fail: (message: string) => Error): z.infer<S> {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (e) {
    throw fail(`${file}: invalid YAML: ${errorMessage(e)}`);
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw fail(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return parsed.data;
}
