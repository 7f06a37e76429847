// Renders a role's structured output as chat markdown: headings for outputs, bullets for lists.
import type { RequiredOutput } from './output-schema';

export function renderOutput(outputs: RequiredOutput[], value: Record<string, unknown>): string {
  return outputs.map((o) => `*${titleCase(o.name)}*\n${renderValue(value[o.name], 0)}`).join('\n\n').trim();
}

function renderValue(v: unknown, depth: number): string {
  const pad = '  '.repeat(depth);
  if (v === null || v === undefined) return `${pad}_none_`;
  if (Array.isArray(v)) return v.length ? v.map((item) => bullet(item, depth)).join('\n') : `${pad}_none_`;
  if (typeof v === 'object') {
    return Object.entries(v as Record<string, unknown>)
      .map(([k, val]) => (isScalar(val) ? `${pad}*${titleCase(k)}:* ${String(val)}` : `${pad}*${titleCase(k)}:*\n${renderValue(val, depth + 1)}`))
      .join('\n');
  }
  return `${pad}${String(v)}`;
}

function bullet(item: unknown, depth: number): string {
  const pad = '  '.repeat(depth);
  if (isScalar(item)) return `${pad}• ${String(item)}`;
  if (Array.isArray(item)) return renderValue(item, depth + 1);
  const entries = Object.entries(item as Record<string, unknown>);
  const [first, ...rest] = entries;
  if (!first) return `${pad}• _empty_`;
  const head = isScalar(first[1]) ? `${pad}• *${titleCase(first[0])}:* ${String(first[1])}` : `${pad}• *${titleCase(first[0])}:*\n${renderValue(first[1], depth + 2)}`;
  const tail = rest.map(([k, val]) => (isScalar(val) ? `${pad}   *${titleCase(k)}:* ${String(val)}` : `${pad}   *${titleCase(k)}:*\n${renderValue(val, depth + 2)}`));
  return [head, ...tail].join('\n');
}

const isScalar = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);

const titleCase = (key: string) => key.replace(/_/g, ' ').replace(/^\w/, (c) => c.toUpperCase());
