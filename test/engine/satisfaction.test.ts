// Satisfaction votes through act(), as the queued press jobs call it: presses of one person may run in any order, and
// the latest press (by when it was pressed, not when its job ran) is the vote that counts.
import { describe, expect, it } from 'vitest';
import { act } from '../../orchestrator/act';
import { engineSuite } from '../support/engine';

const suite = engineSuite();

describe('satisfaction votes', () => {
  it('keeps the latest press of each person when an older press is handled last', async () => {
    const e = await suite.start();
    const wf = await e.prisma.workflow.create({
      data: { platform: 'slack', teamId: e.teamId, channelId: e.channelId, threadTs: '9.1', requestText: 'rate me', requestedBy: 'U1', sourceEventId: `ev-${Date.now()}`, template: 'default', status: 'completed' },
    });
    const actor = (userId: string) => ({ kind: 'chat' as const, platform: 'slack' as const, userId, teamId: e.teamId, channelId: e.channelId });
    const t0 = new Date('2026-12-01T10:00:00.000Z');
    const later = new Date(t0.getTime() + 1000);
    // Bob pressed 👍 then 👎; the 👎 job runs first, the 👍 job last
    expect(await act(e.deps, 'satisfaction_down', wf.id, actor('U_BOB'), undefined, later)).toMatchObject({ kind: 'done' });
    expect(await act(e.deps, 'satisfaction_up', wf.id, actor('U_BOB'), undefined, t0)).toMatchObject({ kind: 'done' });
    // Alice changes her mind in order
    await act(e.deps, 'satisfaction_up', wf.id, actor('U_ALICE'), undefined, t0);
    await act(e.deps, 'satisfaction_down', wf.id, actor('U_ALICE'), undefined, later);
    const votes = await e.prisma.satisfaction.findMany({ where: { workflowId: wf.id }, orderBy: { userId: 'asc' } });
    expect(votes.map((v) => [v.userId, v.score])).toEqual([['U_ALICE', -1], ['U_BOB', -1]]);
    // a vote on a workflow that does not exist is refused and writes nothing
    expect(await act(e.deps, 'satisfaction_up', '00000000-0000-0000-0000-000000000000', actor('U_BOB'))).toMatchObject({ kind: 'refused' });
  });
});
