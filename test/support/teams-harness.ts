// The harness with a local Microsoft (Bot Connector + Entra ID) for each Teams test, and how to read its posts.
import { afterEach, beforeEach } from 'vitest';
import { startHarness, type Harness } from './harness';
import { actionsOf, startFakeMicrosoft, teamsPoster, type FakeMicrosoft, type TeamsPoster } from './fake-teams';

/** Registers the hooks that start (and close) a harness and a local Microsoft for each test, handed to `set`; returns
 *  readers of the current test's persona posts and gate cards in a conversation. */
export function useTeamsHarness(set: (h: Harness, ms: FakeMicrosoft, teams: TeamsPoster) => void) {
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
  return {
    posts: (conv: string) => postsIn(current!.ms, conv),
    gates: (conv: string) => gatesIn(current!.ms, conv),
  };
}

export const postsIn = (ms: FakeMicrosoft, conv: string) => ms.calls.filter((c) => c.verb === 'POST' && c.conversationId === conv && c.body.type === 'message');
export const gatesIn = (ms: FakeMicrosoft, conv: string) => postsIn(ms, conv).filter((c) => actionsOf(c).some((a) => a.verb === 'approve'));
