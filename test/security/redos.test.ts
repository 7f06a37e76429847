// Security: forbidden-topic patterns must not let an input block the process (ReDoS). The Business Analyst's
// `\bimport\s+[\w{}*,\s]+\s+from\s` took cubic time in a backtracking engine: "import" and 2.4 KB of spaces blocked
// the event loop for about 5 s. Every check now runs on RE2 (linear time) over a bounded input: through the MCP
// validate_output tool over HTTP and on model output in the workers.
import { createHash, randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../app/config';
import { startRuntime } from '../../app/runtime';
import { loadRoles, type Role } from '../../agents/roles';
import { createLogger } from '../../orchestrator/log';
import { defaultScript, fill, roleOf } from '../support/fake-openai';
import { startThread, waitForGate } from '../support/flow';
import { startHarness, type Harness } from '../support/harness';
import { copyRoles } from '../support/roles-dir';

const SHIPPED = [...loadRoles('roles').values()];

/** What a check of these inputs may take. Linear matching takes milliseconds; a backtracking engine takes minutes to
 *  hours on them (2.4 KB took 5 s with cubic growth), so a generous bound still catches a regression on a busy
 *  machine. Speed itself is measured in bench/, not here. */
const LINEAR_BOUND_MS = 20_000;

/**
 * Text that makes the shipped patterns backtrack in a backtracking engine (long runs of whitespace after a keyword) but
 * matches none of them, so every pattern of every role reads all of it.
 */
function adversarial(length: number): string {
  const parts = ['import', 'SELECT', 'export async function f', 'class A', 'const a', '5', 'sk-', '-----BEGIN ', '``'];
  let s = '';
  for (let i = 0; s.length < length; i++) s += parts[i % parts.length] + ' '.repeat(2_400) + '\t';
  return s.slice(0, length);
}

/** A schema-valid output of the role whose first text field holds `text`. */
function outputWith(role: Role, text: string): Record<string, unknown> {
  const schema = { type: 'object', properties: Object.fromEntries(role.constraints.required_outputs.map((o) => [o.name, o.schema])), required: role.constraints.required_outputs.map((o) => o.name) };
  const value = fill(schema, 'Fine text for the thread') as Record<string, unknown>;
  let done = false;
  const put = (v: unknown): unknown => {
    if (done) return v;
    if (typeof v === 'string') { done = true; return text; }
    if (Array.isArray(v)) return v.map(put);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, put(x)]));
    return v;
  };
  return put(value) as Record<string, unknown>;
}

/** An API key for the MCP endpoints when this build has them (sent as a header; ignored where there are none). */
async function mcpHeaders(h: Harness): Promise<Record<string, string>> {
  const keys = (h.prisma as unknown as Record<string, { create?: (a: unknown) => Promise<unknown> }>).mcpApiKey;
  if (!keys?.create) return {};
  const key = `rc_${randomBytes(32).toString('base64url')}`;
  await keys.create({ data: { name: 'security test', prefix: key.slice(0, 11), hash: createHash('sha256').update(key).digest('hex'), roles: ['*'], readArtifacts: true, runTasks: true, createdBy: 'test' } });
  return { authorization: `Bearer ${key}` };
}

async function mcpClient(h: Harness, roleId: string): Promise<Client> {
  const c = new Client({ name: 'security-test', version: '1.0.0' });
  await c.connect(new StreamableHTTPClientTransport(new URL(`${h.url}/mcp/${roleId}`), { requestInit: { headers: await mcpHeaders(h) } }));
  return c;
}

async function timedValidate(c: Client, output: Record<string, unknown>) {
  const t = performance.now();
  const res = await c.callTool({ name: 'validate_output', arguments: { output } });
  const ms = performance.now() - t;
  return { ms, res, text: (res.content as { text: string }[])[0]!.text };
}

describe('validate_output over MCP with every shipped role', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness({ worker: false }); });
  afterAll(async () => { await h?.close(); });

  it('the shipped roles are the ones checked here', () => {
    expect(SHIPPED.map((r) => r.role_id).sort()).toEqual(['business_analyst', 'developer', 'project_manager', 'qa_tester', 'technical_architect']);
  });

  it.each(SHIPPED.map((r) => [r.role_id, r] as const))('%s: a 100 KB adversarial output is checked without backtracking (bounded time)', async (_id, role) => {
    const c = await mcpClient(h, role.role_id);
    const output = outputWith(role, adversarial(100_000));
    expect(JSON.stringify(output).length).toBeGreaterThan(100_000);
    const { ms, res, text } = await timedValidate(c, output);
    expect(res.isError).toBe(true);
    expect(text).toContain('max_output');
    expect(ms).toBeLessThan(LINEAR_BOUND_MS);
    await c.close();
  });

  it.each(SHIPPED.map((r) => [r.role_id, r] as const))('%s: an adversarial output just under the size limit (every character scanned) is checked without backtracking (bounded time)', async (_id, role) => {
    const c = await mcpClient(h, role.role_id);
    const { ms, text } = await timedValidate(c, outputWith(role, adversarial(role.constraints.max_output_chars - 1_000)));
    expect(text).toBe('valid');
    expect(ms).toBeLessThan(LINEAR_BOUND_MS);
    await c.close();
  });

  it('the Business Analyst\'s import pattern still catches an import line, in linear time', async () => {
    const ba = SHIPPED.find((r) => r.role_id === 'business_analyst')!;
    const c = await mcpClient(h, 'business_analyst');
    const { ms, res, text } = await timedValidate(c, outputWith(ba, `Context.\nimport { a, b } from "lib"\n${'import' + ' '.repeat(9_000)}`));
    expect(res.isError).toBe(true);
    expect(text).toContain('forbidden_topic: implementation_code');
    expect(text).toContain('matched "import { a, b } from "');
    expect(ms).toBeLessThan(LINEAR_BOUND_MS);
    await c.close();
  });

  it('an answer far beyond any role\'s size is refused without being parsed or scanned', async () => {
    const c = await mcpClient(h, 'business_analyst');
    const ba = SHIPPED.find((r) => r.role_id === 'business_analyst')!;
    const { ms, res, text } = await timedValidate(c, outputWith(ba, adversarial(250_000)));
    expect(res.isError).toBe(true);
    expect(text).toMatch(/max_output: the answer is \d+ characters; nothing over 200000 is checked/);
    expect(ms).toBeLessThan(LINEAR_BOUND_MS);
    await c.close();
  });
});

describe('model output in the workers', () => {
  let h: Harness;
  afterAll(async () => { await h?.close(); });

  it('an adversarial Business Analyst answer is checked at once (not after minutes) and posted', async () => {
    h = await startHarness();
    const ba = SHIPPED.find((r) => r.role_id === 'business_analyst')!;
    const evil = JSON.stringify(outputWith(ba, `Plan:\n${'import' + ' '.repeat(10_000)}\n${'import' + '\t '.repeat(500)}`));
    h.openai.script = (req, n) => (roleOf(req) === 'Business Analyst' ? { content: evil } : defaultScript(req, n));
    const t = performance.now();
    const ev = await startThread(h);
    const gate = await waitForGate(h, ev.ts, 1);
    expect(performance.now() - t).toBeLessThan(10_000);
    expect(h.openai.requests.filter((r) => roleOf(r) === 'Business Analyst')).toHaveLength(1); // valid: passes the check at once
    expect(gate.params.text).not.toContain('did not meet its constraints');
  });
});

describe('patterns RE2 cannot run in linear time are refused when the role is loaded', () => {
  it.each([
    ['a backreference', String.raw`(\w+)\s+\1`, /invalid escape sequence/],
    ['a lookahead', String.raw`import(?=\s)`, /unsupported Perl syntax/],
    ['a negative lookahead', String.raw`import(?!ant)`, /unsupported Perl syntax/],
    ['a lookbehind', String.raw`(?<=from\s)x`, /invalid named capture|lookbehind/],
  ])('%s: start-up stops with an error naming the file and the pattern', async (_what, pattern, why) => {
    const roles = copyRoles();
    roles.edit('business_analyst.yaml', (t) => t.replace('      detector: code\n      patterns: [', `      detector: code\n      patterns: ['${pattern}', `));
    const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', ROLES_DIR: roles.dir });
    const start = startRuntime(config, { server: false, worker: false, migrate: false }, createLogger('silent'));
    await expect(start).rejects.toThrow(`${roles.dir}/business_analyst.yaml: constraints.forbidden_topics.0.patterns.0: invalid pattern`);
    await expect(start).rejects.toThrow(why);
    await expect(start).rejects.toThrow(/RE2 syntax/);
  });
});
