// Files out, built from a role's structured output as the role YAML declares them (agents/files/outputs): each file is
// read back with a library of its kind (SheetJS, mammoth, diff, sharp) and must hold the output's content; a diagram
// the renderer cannot read ships as its Mermaid source and is named; absent fields give no file; role files that
// point outputs at something that is not an output are refused.
import { parsePatch } from 'diff';
import * as XLSX from '@e965/xlsx';
import mammoth from 'mammoth';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { buildOutputFiles } from '../../agents/files/outputs/build';
import { parseRoleFile } from '../../agents/roles';
import { loadRoles } from '../../agents/roles';

const roles = loadRoles('roles');
const specsOf = (id: string) => roles.get(id)!.outputs.files;
const opts = { roleName: 'Role', maxBytes: 25 * 1024 * 1024 };
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('output files from the roles in roles/', () => {
  it('QA Tester: the test cases as CSV (formulas neutralised, line breaks quoted) and as XLSX', async () => {
    const data = { test_plan: { test_cases: [
      { title: 'Login with SSO', criterion: 'AC1', steps: ['Open /login', 'Press "Sign in with Okta"'], expected: 'Dashboard shown' },
      { title: '=HYPERLINK("http://evil")', steps: ['x'], expected: 'no formula runs' },
    ], edge_cases: [], automation: [], gaps: [] } };
    const out = await buildOutputFiles(specsOf('qa_tester'), data, opts);
    expect(out.failures).toEqual([]);
    expect(out.files.map((f) => f.name)).toEqual(['test-cases.csv', 'test-cases.xlsx']);
    const csv = text(out.files[0]!.bytes);
    expect([...out.files[0]!.bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]); // a BOM: Excel reads the CSV as UTF-8
    expect(csv.split('\r\n')[0]).toBe('title,criterion,steps,expected');
    expect(csv).toContain('"1. Open /login\n2. Press ""Sign in with Okta"""');
    expect(csv).toContain('"\'=HYPERLINK(""http://evil"")"');
    const book = XLSX.read(out.files[1]!.bytes);
    expect(book.SheetNames).toEqual(['Test cases']);
    const rows = XLSX.utils.sheet_to_json<Record<string, string>>(book.Sheets['Test cases']!);
    expect(rows[0]).toMatchObject({ title: 'Login with SSO', criterion: 'AC1', expected: 'Dashboard shown' });
    expect(rows[1]!.title).toBe('=HYPERLINK("http://evil")'); // a text cell in XLSX, not a formula
    expect(book.Sheets['Test cases']!.A3!.f).toBeUndefined();
  });

  it('Technical Architect: Mermaid source, SVG without external references, PNG; an unreadable diagram ships as source and is named', async () => {
    const data = { design_doc: { overview: 'x', components: [], data_model: [], interfaces: [], decisions: [], risks: [], diagrams: [
      { title: 'Components', mermaid: '```mermaid\nflowchart LR\n  Browser -->|HTTPS| API[API service]\n  API --> DB[(PostgreSQL)]\n```' },
      { title: 'Broken', mermaid: 'this is not mermaid' },
    ] } };
    const out = await buildOutputFiles(specsOf('technical_architect'), data, opts);
    expect(out.files.map((f) => f.name)).toEqual(['architecture-1.mmd', 'architecture-1.svg', 'architecture-1.png', 'architecture-2.mmd']);
    expect(text(out.files[0]!.bytes)).toBe('%% Components\nflowchart LR\n  Browser -->|HTTPS| API[API service]\n  API --> DB[(PostgreSQL)]\n');
    const svg = text(out.files[1]!.bytes);
    expect(svg).toMatch(/^<svg /);
    expect(svg).toContain('API service');
    expect(svg).not.toMatch(/var\(--|@import|https?:\/\/(?!www\.w3\.org)/);
    const png = await sharp(Buffer.from(out.files[2]!.bytes)).metadata();
    expect(png.format).toBe('png');
    expect(png.width).toBeGreaterThan(100);
    const stats = await sharp(Buffer.from(out.files[2]!.bytes)).stats();
    expect(stats.channels[0]!.min).toBeLessThan(100); // something dark was drawn: not a blank picture
    expect(out.failures).toEqual([expect.stringMatching(/^architecture-2\.svg could not be made: the Mermaid source could not be rendered .*\(the Mermaid source architecture-2\.mmd is attached\)$/)]);
  });

  it('Project Manager: the status report as DOCX with the output\'s sections', async () => {
    const data = { summary: { request: 'SSO login page', delivered: ['Design', 'Test plan'], decisions: ['Use Okta'], risks: [], next_steps: [{ step: 'Ship it', owner: 'Ada' }] } };
    const out = await buildOutputFiles(specsOf('project_manager'), data, { ...opts, roleName: 'Project Manager' });
    expect(out.files.map((f) => [f.name, f.mime])).toEqual([['status-report.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document']]);
    const { value } = await mammoth.extractRawText({ buffer: Buffer.from(out.files[0]!.bytes) });
    for (const s of ['Status report', 'Request', 'SSO login page', 'Delivered', 'Test plan', 'Use Okta', 'Risks', 'None.', 'Ship it (owner: Ada)']) expect(value).toContain(s);
  });

  it('Developer: a given unified diff ships as is; without one, each change\'s code becomes a diff; paths cannot leave the repository', async () => {
    const diff = '--- a/src/login.ts\n+++ b/src/login.ts\n@@ -1,1 +1,1 @@\n-const sso = false;\n+const sso = true;\n';
    const given = await buildOutputFiles(specsOf('developer'), { implementation_plan: { changes: [{ file: 'x', change: 'y' }], configuration: [], migrations: [], deviations: [], patch: diff } }, opts);
    expect(given.files.map((f) => f.name)).toEqual(['change.patch']);
    expect(text(given.files[0]!.bytes)).toBe(diff);
    const built = await buildOutputFiles(specsOf('developer'), { implementation_plan: { changes: [{ file: '../../etc/passwd', change: 'add', code: 'export const sso = true;' }, { file: 'docs/a.md', change: 'no code' }], configuration: [], migrations: [], deviations: [] } }, opts);
    const patches = parsePatch(text(built.files[0]!.bytes));
    expect(patches.map((p) => p.newFileName)).toEqual(['b/etc/passwd']);
    expect(patches[0]!.hunks[0]!.lines).toEqual(['+export const sso = true;']);
    const evil = await buildOutputFiles(specsOf('developer'), { implementation_plan: { changes: [], patch: '--- a/../../x\n+++ b/../../x\n@@ -1 +1 @@\n-a\n+b\n' } }, opts);
    expect(evil.files).toEqual([]);
    expect(evil.failures).toEqual([expect.stringContaining('change.patch could not be made: the output\'s patch names a path outside the repository')]);
    const none = await buildOutputFiles(specsOf('developer'), { implementation_plan: { changes: [{ file: 'a', change: 'b' }] } }, opts);
    expect(none).toEqual({ files: [], failures: [] }); // no code in the plan: nothing to attach, nothing to complain of
  });

  it('gives no file for an absent field, and refuses a file over the size limit', async () => {
    expect(await buildOutputFiles(specsOf('technical_architect'), { design_doc: { overview: 'x' } }, opts)).toEqual({ files: [], failures: [] });
    const big = await buildOutputFiles(specsOf('qa_tester'), { test_plan: { test_cases: [{ title: 'x'.repeat(5000) }] } }, { ...opts, maxBytes: 1000 });
    expect(big.files).toEqual([]);
    expect(big.failures).toEqual([expect.stringContaining('test-cases.csv could not be made: it would be'), expect.stringContaining('test-cases.xlsx could not be made')]);
  });
});

describe('outputs.files in a role file', () => {
  const role = (outputs: string) => `role_id: r\npersona: { display_name: R, icon_emoji: ":x:", style: terse }\ncapabilities: [x]\ninstructions: do the thing well and completely\nconstraints:\n  required_outputs:\n    - name: plan\n      description: the plan\n      schema: { type: object }\n${outputs}llm_config: { provider: openai, model: m }\n`;
  it('must point at one of the role\'s required outputs, with a known format and a safe name', () => {
    expect(parseRoleFile('r.yaml', role('outputs:\n  files:\n    - { name: plan, from: plan.items, format: csv }\n')).outputs.files).toHaveLength(1);
    expect(() => parseRoleFile('r.yaml', role('outputs:\n  files:\n    - { name: plan, from: other.items, format: csv }\n'))).toThrow(/outputs\.files\.0\.from: "other" is not one of constraints\.required_outputs/);
    expect(() => parseRoleFile('r.yaml', role('outputs:\n  files:\n    - { name: ../x, from: plan, format: csv }\n'))).toThrow(/name/);
    expect(() => parseRoleFile('r.yaml', role('outputs:\n  files:\n    - { name: plan, from: plan, format: exe }\n'))).toThrow(/format/);
    expect(() => parseRoleFile('r.yaml', role('outputs:\n  files:\n    - { name: plan, from: plan, format: csv, render: [png] }\n'))).toThrow(/render/);
  });
});
