// People by name (issue 14): Slack events carry only user ids, so when Rolecall meets a Slack person (the requester
// of a mention, a thread reply's author, a button presser or gate decider) their display name is looked up through
// the port's lookupName (Slack users.info) and kept in SlackUser, for the console (web-admin/views/people.tsx).
// Invariants: a person is looked up at most once per REFRESH_MS: the lookup is claimed by one conditional upsert, so
// concurrent jobs cannot both ask; it runs after the job's own work (the workflow is started, the press applied) and
// the job waits for it at most LOOKUP_WAIT_MS (a slower lookup finishes in the background); whatever fails (Slack, the
// database) is logged and never fails or blocks the job. Erasure removes the row (privacy/subject.ts).
import { errorMessage } from '../agents/errors';
import type { PlatformName } from './chat';
import { waitAtMost } from './deadline';
import type { EngineDeps } from './deps';

/** A stored name is looked up again after this long (and not before, also after a failed lookup). */
export const REFRESH_MS = 24 * 60 * 60 * 1000;
/** The job that met the person waits at most this long for the lookup. */
const LOOKUP_WAIT_MS = 5_000;
/** A Slack user id as Rolecall stores it (U…/W…; tests use U_NAME). */
const SLACK_USER = /^[A-Za-z0-9_]{1,64}$/;

export interface MetPerson {
  platform: PlatformName;
  teamId: string;
  userId: string;
}

/** Looks the person's name up and keeps it, when it is due (best effort; never throws). */
export async function rememberPerson(deps: EngineDeps, person: MetPerson, now = new Date()): Promise<void> {
  if (person.platform !== 'slack' || !SLACK_USER.test(person.userId) || !person.teamId) return;
  const port = deps.chat.slack;
  if (!port?.lookupName) return;
  const failed = (e: unknown) => deps.log.warn('could not look up a Slack person\'s name (shown by id until the next lookup)', { team: person.teamId, error: errorMessage(e) });
  const work = (async () => {
    if (!(await claim(deps, person, now))) return; // known and fresh, or another job is asking right now
    const name = await port.lookupName!(person.teamId, person.userId);
    // updateMany: a row erased meanwhile (privacy/subject.ts) stays erased
    await deps.prisma.slackUser.updateMany({ where: { id: person.userId }, data: { name: name ?? null } });
  })().catch(failed);
  await waitAtMost(work, LOOKUP_WAIT_MS);
}

/** Claims the lookup of `person`: true when no row exists or it was last checked REFRESH_MS ago or more (the row's
 *  checkedAt is moved to now in the same statement, so exactly one caller wins). */
async function claim(deps: EngineDeps, person: MetPerson, now: Date): Promise<boolean> {
  const staleBefore = new Date(now.getTime() - REFRESH_MS);
  const rows = await deps.prisma.$queryRaw<{ id: string }[]>`
    INSERT INTO "SlackUser" ("id", "teamId", "checkedAt") VALUES (${person.userId}, ${person.teamId}, ${now})
    ON CONFLICT ("id") DO UPDATE SET "checkedAt" = EXCLUDED."checkedAt", "teamId" = EXCLUDED."teamId"
      WHERE "SlackUser"."checkedAt" <= ${staleBefore}
    RETURNING "id"`;
  return rows.length > 0;
}
