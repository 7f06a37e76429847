// The harness with a local Microsoft (Bot Connector + Entra ID) for each Teams test, and how to read its posts.
import { afterEach, beforeEach } from 'vitest';
import { startHarness, type Harness } from './harness';
import { actionsOf, startFakeMicrosoft, teamsPoster, type FakeMicrosoft, type TeamsPoster } from './fake-teams';

export function useTeamsHarness(set: (h: Harness, ms: FakeMicrosoft, teams: TeamsPoster) => void): void {
  let current: { h: Harness; ms: FakeMicrosoft } | undefined;
  beforeEach(async () => {
    const ms = await startFakeMicrosoft();
    const h = await startHarness({ env: ms.env });
    current = { h, ms };
    set(h, ms, teamsPoster(h.url, ms));
  });
  afterEach(async () => {
    await current?.h.close();
    await current?.ms.close();
  });
}

export const postsIn = (ms: FakeMicrosoft, conv: string) => ms.calls.filter((c) => c.verb === 'POST' && c.conversationId === conv && c.body.type === 'message');
export const gatesIn = (ms: FakeMicrosoft, conv: string) => postsIn(ms, conv).filter((c) => actionsOf(c).some((a) => a.verb === 'approve'));
