// People by name on console pages: the ids stored on workflows, approvals, audit rows and budgets (a Slack or Teams
// user id, a playground user's console id, an actor such as "slack:U123" or "console:ann@example.com") shown as the
// display name Rolecall stored for them (Teams users it has met; Slack users it has met, looked up with users.info at
// most once a day, orchestrator/people.ts; playground users and console actors by their console email). Invariant: an
// id whose name is not known is shown as the id itself (never dropped, never guessed); the id stays in the element's
// title; names are text (JSX escapes them); every lookup is bounded (at most MAX ids, one query per source).
import type { Db } from '../../orchestrator/db';

const MAX = 500;
const PLATFORM_PREFIX = /^(slack|teams|web):(.+)$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type Names = ReadonlyMap<string, string>;

/** Display names for `ids`, keyed by the id as given; unknown ids are absent. An id prefixed with its platform
 *  ("teams:29:1", "web:<console user id>") is looked up where that platform keeps names; "console:<email>" is the
 *  email; an id without a prefix is looked up in every store. */
export async function loadNames(prisma: Db, ids: Iterable<string | null | undefined>): Promise<Map<string, string>> {
  const given = [...new Set([...ids].filter((x): x is string => !!x && x.length <= 300))].slice(0, MAX);
  const out = new Map<string, string>();
  const teams = new Set<string>();
  const slack = new Set<string>();
  const admins = new Set<string>();
  for (const id of given) {
    if (id.startsWith('console:')) { out.set(id, id.slice('console:'.length)); continue; }
    const m = PLATFORM_PREFIX.exec(id);
    const [platform, raw] = m ? [m[1], m[2]!] : [undefined, id];
    if (!platform || platform === 'teams') teams.add(raw);
    if (!platform || platform === 'slack') slack.add(raw);
    if ((!platform || platform === 'web') && UUID.test(raw)) admins.add(raw);
  }
  const [teamsRows, slackRows, adminRows] = await Promise.all([
    teams.size ? prisma.teamsUser.findMany({ where: { id: { in: [...teams] } }, select: { id: true, name: true } }) : Promise.resolve([]),
    slack.size ? prisma.slackUser.findMany({ where: { id: { in: [...slack] }, name: { not: null } }, select: { id: true, name: true } }) : Promise.resolve([]),
    admins.size ? prisma.adminUser.findMany({ where: { id: { in: [...admins] } }, select: { id: true, email: true } }) : Promise.resolve([]),
  ]);
  const teamsName = new Map(teamsRows.map((r) => [r.id, r.name]));
  const slackName = new Map(slackRows.flatMap((r) => (r.name ? [[r.id, r.name] as const] : [])));
  const adminName = new Map(adminRows.map((r) => [r.id, r.email]));
  for (const id of given) {
    if (out.has(id)) continue;
    const m = PLATFORM_PREFIX.exec(id);
    const [platform, raw] = m ? [m[1], m[2]!] : [undefined, id];
    const name = (platform === 'teams' || !platform ? teamsName.get(raw) : undefined)
      ?? (platform === 'slack' || !platform ? slackName.get(raw) : undefined)
      ?? (platform === 'web' || !platform ? adminName.get(raw) : undefined);
    if (name) out.set(id, name);
  }
  return out;
}

/** The lookup key of a stored user id of `platform` (console actors keep theirs). */
export const keyOf = (id: string, platform?: string) => (platform && !id.startsWith('console:') ? `${platform}:${id}` : id);

/** The name of `id` (of `platform`, when given), or the id itself when no name is known. */
export const nameOf = (names: Names, id: string | null | undefined, platform?: string): string => (id ? names.get(keyOf(id, platform)) ?? id : '');

/** A person on a page: their name, with the id in the title (for support and audits); the id when no name is known. */
export function Person({ id, platform, names }: { id: string | null | undefined; platform?: string; names: Names }) {
  if (!id) return <span class="person">—</span>;
  const name = names.get(keyOf(id, platform));
  return name ? <span class="person" title={id}>{name}</span> : <span class="person">{id.replace(/^console:/, '')}</span>;
}
