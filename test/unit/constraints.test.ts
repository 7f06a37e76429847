import { describe, expect, it } from 'vitest';
import { checkOutput, forbiddenTopicHits } from '../../agents/constraints';
import { demoProvider } from '../../agents/llm/demo';
import { responseSchema, validatorFor } from '../../agents/output-schema';
import { systemPrompt } from '../../agents/prompt';
import { renderOutput } from '../../agents/render';
import { loadRoles } from '../../agents/roles';

const roles = loadRoles('roles');

describe('shipped roles and the demo model', () => {
  for (const role of roles.values()) {
    it(`${role.role_id}: the demo answer is schema-valid and breaks no constraint`, async () => {
      const res = await demoProvider().complete({ model: 'demo', temperature: 0, system: systemPrompt(role), user: 'Request: add SSO login', responseSchema: { name: 'x', schema: responseSchema(role.constraints.required_outputs) } });
      expect(validatorFor(role.constraints.required_outputs)(JSON.parse(res.text))).toEqual([]);
      expect(checkOutput(role, res.text)).toMatchObject({ ok: true });
    });
  }
});

describe('checks', () => {
  const ba = roles.get('business_analyst')!;
  it('finds forbidden topics lexically', () => {
    expect(forbiddenTopicHits(ba, 'We need 5 story points for this')).toEqual([{ kind: 'forbidden_topic', detail: expect.stringMatching(/^effort_estimates: .*matched "5 story points"/) }]);
    expect(forbiddenTopicHits(ba, 'const x = 1')).toHaveLength(1);
    expect(forbiddenTopicHits(ba, 'Users sign in with their company account.')).toEqual([]);
  });

  it('accepts JSON wrapped in a code fence, and rejects non-JSON and oversize output', () => {
    const doc = { requirements_doc: { problem_statement: 'Customers cannot sign in with SSO', user_stories: [{ story: 'As a customer I want SSO', acceptance_criteria: ['Given ... then ...'] }], open_questions: [], out_of_scope: [] } };
    expect(checkOutput(ba, '```json\n' + JSON.stringify(doc) + '\n```')).toMatchObject({ ok: true });
    expect(checkOutput(ba, 'no json here')).toMatchObject({ ok: false, violations: [{ kind: 'schema' }] });
    const big = { ...doc, requirements_doc: { ...doc.requirements_doc, open_questions: Array(400).fill('What about the other forty-two identity providers we support?') } };
    expect(checkOutput(ba, JSON.stringify(big))).toMatchObject({ ok: false, violations: [{ kind: 'max_output' }] });
  });

  it('renders structured output as readable markdown', () => {
    const text = renderOutput(ba.constraints.required_outputs, { requirements_doc: { problem_statement: 'P', user_stories: [{ story: 'S', acceptance_criteria: ['A1', 'A2'] }], open_questions: [], out_of_scope: ['X'] } });
    expect(text).toBe('*Requirements doc*\n*Problem statement:* P\n*User stories:*\n  • *Story:* S\n     *Acceptance criteria:*\n      • A1\n      • A2\n*Open questions:*\n  _none_\n*Out of scope:*\n  • X');
  });
});
