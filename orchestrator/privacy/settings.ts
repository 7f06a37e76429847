// Privacy settings of a workflow's scope (issue 18): the PrivacySetting row of its channel (channel:platform:id), else
// its workspace (team:platform:id), else "*", else off. Read per workflow job and applied to its model calls through
// agents/llm/private.ts withPrivacy (a step reads them in the statement that starts it, with the same order:
// orchestrator/workflow/transitions.ts startStepRunReading). Invariant: the most specific row wins, whole (settings are not merged).
import { z } from 'zod';
import type { PrivacySettings } from '../../agents/llm/private';
import type { Db } from '../db';

export const privacyScopeSchema = z.string().trim().regex(/^(\*|(team|channel):(slack|teams|web):[A-Za-z0-9_.:%@-]{1,200})$/, 'must be *, team:platform:id or channel:platform:id');

export const OFF: PrivacySettings = { redactPii: false, localModelsOnly: false };

export async function privacySettingsFor(prisma: Db, wf: { platform: string; teamId: string; channelId: string }): Promise<PrivacySettings> {
  const keys = [`channel:${wf.platform}:${wf.channelId}`, `team:${wf.platform}:${wf.teamId}`, '*'];
  const rows = await prisma.privacySetting.findMany({ where: { scopeKey: { in: keys } } });
  for (const k of keys) {
    const r = rows.find((x) => x.scopeKey === k);
    if (r) return { redactPii: r.redactPii, localModelsOnly: r.localModelsOnly };
  }
  return OFF;
}
