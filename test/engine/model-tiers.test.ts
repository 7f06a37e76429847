// Model tiers through the whole engine (test/support/engine.ts: real PostgreSQL, Redis and worker, the fake OpenAI):
// a role with two tiers starts on the cheaper one; when a person requests changes at its gate, the next revision
// runs one tier up (the fake model server sees the premium model), the escalation is recorded with its reason, and
// the output's model line says so.
import { describe, expect, it } from 'vitest';
import { buttonsOf, engineSuite } from '../support/engine';
import { copyRoles } from '../support/roles-dir';
import { copyTemplates } from '../support/templates-dir';
import { waitFor } from '../support/wait';

const suite = engineSuite();

describe('a person requests changes', () => {
  it('the next revision starts one tier up, recorded and shown in the thread', async () => {
    const roles = copyRoles();
    roles.edit('business_analyst.yaml', (t) => `${t}models:
  tiers:
    - { name: cheap, provider: openai, model: gpt-4o-mini }
    - { name: premium, provider: openai, model: gpt-4.1 }
`);
    const templates = copyTemplates({ 'zebra_reqs.yaml': `id: zebra_reqs
name: Zebra requirements
description: Requirements for a zebra feature.
examples:
  - zebra requirements for the import feature
  - write the zebra requirements please
  - zebra requirements for the new flow
  - requirements for the zebra export
  - we need zebra requirements
steps:
  - { id: requirements, role: business_analyst, gate: true }
` });
    const e = await suite.start({ env: { ROLES_DIR: roles.dir, TEMPLATES_DIR: templates } });
    const t = await e.mention('zebra requirements for the import feature');
    const gate1 = await e.waitForGate(t.threadTs, 1);
    const stepModels = () => e.openai.requests.filter((r) => r.response_format?.json_schema?.name === 'business_analyst_output').map((r) => r.model);
    expect(stepModels()).toEqual(['gpt-4o-mini']);
    expect(await e.press('request_changes', buttonsOf(gate1).request_changes!, 'U_ALICE', 'Add acceptance criteria for errors')).toMatchObject({ kind: 'done' });
    await e.waitForGate(t.threadTs, 2);
    expect(stepModels()).toEqual(['gpt-4o-mini', 'gpt-4.1']);
    const wf = (await e.workflow(t.threadTs))!;
    const escalations = await e.prisma.tierEscalation.findMany({ where: { workflowId: wf.id } });
    expect(escalations).toEqual([expect.objectContaining({ revision: 2, fromTier: 'cheap', toTier: 'premium', reason: 'changes_requested' })]);
    const runs = await e.prisma.tierRun.findMany({ where: { workflowId: wf.id }, orderBy: { revision: 'asc' } });
    expect(runs.map((r) => [r.revision, r.tier, r.mode, r.outcome])).toEqual([[1, 'cheap', 'routed', 'passed'], [2, 'premium', 'routed', 'passed']]);
    // the thread says it: the revision's output names its tier and why it moved up
    const shown = () => e.posts(t.threadTs).flatMap((p) => [p, ...e.updatesOf(p)]).some((p) => /tier premium, up from cheap \(changes requested\)/.test(`${p.view.text} ${p.view.context ?? ''}`));
    await waitFor(shown, 'the tier in the thread');
  });
});
