// A copy of the shipped workflow templates in a temp folder, to add one for a test.
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export function copyTemplates(extra: Record<string, string> = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'rolecall-templates-'));
  cpSync('orchestrator/templates', dir, { recursive: true });
  for (const [file, text] of Object.entries(extra)) writeFileSync(path.join(dir, file), text);
  return dir;
}
