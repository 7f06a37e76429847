// `npm run roles:check`: every forbidden topic's examples run through the check a step uses; a custom role in the
// roles folder is covered, and a failing example makes the command fail. Also the role schema of topics.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { checkRoleExamples } from '../../agents/checks/examples';
import { loadRoles, parseRoleFile } from '../../agents/roles';
import { copyRoles, DESIGNER_ROLE } from '../support/roles-dir';

const rolesCheck = (dir: string) => spawnSync('npx', ['tsx', 'app/roles-check.ts', '--dir', dir], { encoding: 'utf8' });

/** The test designer role with its code topic on the built-in detector and examples. */
const designer = (violating: string[], clean: string[]) =>
  DESIGNER_ROLE.replace("      patterns: ['```']\n", `      detector: code\n      examples:\n        violating: ${JSON.stringify(violating)}\n        clean: ${JSON.stringify(clean)}\n`);

describe('roles:check', () => {
  it('every example of every shipped role behaves as labelled', () => {
    const results = checkRoleExamples(loadRoles('roles').values());
    expect(results.length).toBeGreaterThan(30);
    expect(results.filter((r) => r.ok !== true)).toEqual([]);
  });

  it('passes on the shipped roles plus a custom role, and fails (exit 1) naming a custom role\'s failing example', () => {
    const roles = copyRoles();
    roles.add('ux_designer.yaml', designer(['def layout(screen):\n    return screen.grid(12)'], ['Each screen has a header, a list and a detail pane.']));
    const ok = rolesCheck(roles.dir);
    expect(ok.stdout).toContain('ok     ux_designer.implementation_code violating example');
    expect(ok.stdout).toMatch(/6 roles, \d+ examples, 0 failing/);
    expect(ok.status).toBe(0);

    roles.add('ux_designer.yaml', designer(['Place the logo at the top left of every screen.'], ['def layout(screen):\n    return screen.grid(12)']));
    const failed = rolesCheck(roles.dir);
    expect(failed.stdout).toContain('FAILED ux_designer.implementation_code violating example "Place the logo at the top left of every screen." is not caught');
    expect(failed.stdout).toContain('FAILED ux_designer.implementation_code clean example "def layout(screen):\\n    return screen.grid(12)" is flagged: 2 lines of code');
    expect(failed.stdout).toMatch(/6 roles, \d+ examples, 2 failing/);
    expect(failed.status).toBe(1);
  });

  it('exits 2 on an invalid role file', () => {
    const roles = copyRoles();
    roles.add('ux_designer.yaml', designer([], []).replace('detector: code', 'detector: telepathy'));
    const res = rolesCheck(roles.dir);
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/ux_designer\.yaml: constraints\.forbidden_topics\.0\.detector/);
  });
});

describe('forbidden topic schema', () => {
  const withTopic = (topic: string, judge = false) => DESIGNER_ROLE.replace(/    - id: implementation_code\n[\s\S]*?(?=  required_outputs:)/, topic).replace('  required_outputs:', `${judge ? '  model_judge: true\n' : ''}  required_outputs:`);

  it('a semantic topic (no patterns, no detector) needs model_judge', () => {
    const topic = '    - id: pricing\n      description: promising prices or discounts to customers\n';
    expect(() => parseRoleFile('/r/ux_designer.yaml', withTopic(topic))).toThrow(/forbidden_topics\.0\.patterns: needs at least one pattern or a detector/);
    expect(parseRoleFile('/r/ux_designer.yaml', withTopic(topic, true)).constraints.forbidden_topics[0]).toMatchObject({ id: 'pricing', patterns: [] });
  });

  it('allowed_code_lines only goes with the code detector', () => {
    expect(() => parseRoleFile('/r/ux_designer.yaml', withTopic("    - id: x\n      description: xyz\n      patterns: ['a']\n      allowed_code_lines: 3\n"))).toThrow(/allowed_code_lines: is only used with detector: code/);
  });
});
