import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRoles, parseRoleFile, RoleDefinitionError } from '../../agents/roles';
import { designerRoleFile } from '../support/roles-dir';

const valid = designerRoleFile();

describe('role files', () => {
  it('loads the five shipped roles', () => {
    const roles = loadRoles('roles');
    expect([...roles.keys()].sort()).toEqual(['business_analyst', 'developer', 'project_manager', 'qa_tester', 'technical_architect']);
    expect(roles.get('business_analyst')!.persona).toMatchObject({ display_name: 'Business Analyst', icon_emoji: ':memo:' });
  });

  it('accepts a new role and applies defaults', () => {
    const role = parseRoleFile('/r/designer.yaml', valid);
    expect(role.llm_config).toEqual({ provider: 'ollama', model: 'llama3.1', temperature: 0.3 });
    expect(role.constraints).toMatchObject({ forbidden_topics: [], max_output_chars: 12000, max_retries: 2, model_judge: false });
    expect(role.approval).toEqual({ policy: 'any' });
    expect(role.tools).toEqual({ allow: [], mcp_servers: [] });
  });

  it.each([
    [valid.replace('  display_name: Designer\n', ''), /designer\.yaml: persona\.display_name:/],
    [valid.replace('provider: ollama', 'provider: "Bard AI"'), /llm_config\.provider:/], // any configured name (openai, azure, ollama, an LLM_ENDPOINTS name) is checked by the router
    [valid.replace('  icon_emoji: ":art:"\n', ''), /persona\.icon_emoji: needs icon_emoji or icon_url/],
    [valid.replace('role_id: designer', 'role_id: painter'), /must match the file name "designer"/],
    [valid + 'surprise: 1\n', /Unrecognized key.*surprise|surprise/],
    ['role_id: [unclosed', /invalid YAML/],
  ])('names the file and field of a bad definition (%#)', (text, message) => {
    expect(() => parseRoleFile('/r/designer.yaml', text)).toThrow(RoleDefinitionError);
    expect(() => parseRoleFile('/r/designer.yaml', text)).toThrow(message);
  });

  it('refuses an empty roles folder', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'roles-'));
    expect(() => loadRoles(dir)).toThrow(/no role files/);
    writeFileSync(path.join(dir, 'designer.yaml'), valid);
    expect([...loadRoles(dir).keys()]).toEqual(['designer']);
  });
});
