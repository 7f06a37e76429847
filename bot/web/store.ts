// The playground's threads and messages in PostgreSQL (WebThread, WebMessage): what the web ChatPort writes and the
// playground's routes read. A web thread is one conversation: its id is both the channel and the thread id of the
// orchestrator's ThreadRef (team WEB_TEAM), so every workflow, gate and button of it is bound to that one thread.
// Invariants: a console user sees a thread only when they own it or their console role is admin or above
// (`visibleTo`); a note for one person (onlyFor) is read only by that person; every update bumps `version`, so a live
// view re-sends exactly what changed; sizes and counts are bounded here (MAX_*), whatever the caller checked.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { AdminUser, Prisma } from '../../generated/prisma/client';
import type { Db } from '../../orchestrator/db';
import type { MessageView, Persona, ViewAction } from '../../orchestrator/chat';
import { ACTION_IDS } from '../../orchestrator/contract';
import { atLeast } from '../../orchestrator/permissions';
import { CLEAR, workspaceScope, type AtRest, type Sealer } from '../../orchestrator/privacy/at-rest';

/** The team id of every playground thread (one console: one team). */
export const WEB_TEAM = 'playground';
/** A person's message: at most this many characters. */
export const MAX_WEB_TEXT = 4_000;
/** Threads one console user may keep (the oldest must be deleted before another is started). */
export const MAX_WEB_THREADS = 50;
/** A person's messages in one thread. */
export const MAX_WEB_MESSAGES = 200;
/** Persona posts longer than this are cut (a model's output is rarely near it). */
const MAX_POST_TEXT = 60_000;

export type WebUser = Pick<AdminUser, 'id' | 'email' | 'role'>;

/** Admins and owners see every playground thread (their RBAC scope); others only their own. */
const seesAll = (user: WebUser) => atLeast(user.role, 'admin');

const actionSchema = z.array(z.object({ id: z.enum(ACTION_IDS), label: z.string().max(200), value: z.string().max(300), style: z.enum(['primary', 'danger']).optional() })).max(40);
const filesSchema = z.array(z.object({ name: z.string().max(1000), bytes: z.number().int().min(0) })).max(20);

export interface WebThreadRow { id: string; ownerId: string; title: string; createdAt: Date; updatedAt: Date }

/** A message as a viewer may see it (raw text: the routes resolve mentions and emoji for display). */
export interface WebMessageRow {
  id: string;
  seq: number;
  authorId: string | null;
  persona: Persona;
  text: string;
  context: string | null;
  actions: ViewAction[];
  files: { name: string; bytes: number }[];
  onlyFor: string | null;
  version: number;
  createdAt: Date;
}

export class WebStore {
  /** `atRest` on: message text is sealed under the playground's workspace key (issue 18; reads open in the adapter). */
  constructor(private readonly prisma: Db, private readonly atRest?: AtRest) {}

  private seal(): Promise<Sealer> {
    return this.atRest ? this.atRest.sealer(workspaceScope('web', WEB_TEAM)) : Promise.resolve(CLEAR);
  }

  async threadsOf(user: WebUser): Promise<(WebThreadRow & { ownerEmail: string })[]> {
    const rows = await this.prisma.webThread.findMany({
      where: seesAll(user) ? {} : { ownerId: user.id }, orderBy: { updatedAt: 'desc' }, take: 200, include: { owner: { select: { email: true } } },
    });
    return rows.map(({ owner, ...t }) => ({ ...t, ownerEmail: owner.email }));
  }

  /** The thread when `user` may see it; undefined otherwise (as if it did not exist). */
  async visibleThread(user: WebUser, threadId: string): Promise<WebThreadRow | undefined> {
    const t = await this.prisma.webThread.findUnique({ where: { id: threadId } });
    return t && (t.ownerId === user.id || seesAll(user)) ? t : undefined;
  }

  /** A new thread, or undefined when the user already has MAX_WEB_THREADS. */
  async createThread(user: WebUser, title: string): Promise<WebThreadRow | undefined> {
    if ((await this.prisma.webThread.count({ where: { ownerId: user.id } })) >= MAX_WEB_THREADS) return undefined;
    return this.prisma.webThread.create({ data: { id: randomUUID(), ownerId: user.id, title: title.slice(0, 120) } });
  }

  deleteThread(threadId: string) {
    return this.prisma.webThread.deleteMany({ where: { id: threadId } });
  }

  /** Records a person's message; undefined when the thread already holds MAX_WEB_MESSAGES of theirs. */
  async addPersonMessage(threadId: string, user: WebUser, text: string, files: { name: string; bytes: number }[] = []): Promise<{ id: string; createdAt: Date } | undefined> {
    if ((await this.prisma.webMessage.count({ where: { threadId, authorId: { not: null } } })) >= MAX_WEB_MESSAGES) return undefined;
    const seal = await this.seal();
    const row = await this.prisma.webMessage.create({
      data: { id: randomUUID(), threadId, authorId: user.id, personaName: user.email, text: seal.text(text.slice(0, MAX_WEB_TEXT)), ...(files.length ? { files: filesSchema.parse(files) } : {}) },
    });
    await this.touch(threadId);
    return row;
  }

  removeMessage(id: string) {
    return this.prisma.webMessage.deleteMany({ where: { id } });
  }

  async threadExists(threadId: string): Promise<boolean> {
    return (await this.prisma.webThread.count({ where: { id: threadId } })) > 0;
  }

  /** A persona's post (the ChatPort's post and notify). */
  async addPost(threadId: string, persona: Persona, view: MessageView, onlyFor?: string): Promise<string> {
    const id = randomUUID();
    const seal = await this.seal();
    await this.prisma.webMessage.create({ data: { id, threadId, ...personaData(persona), ...viewData(view, seal), onlyFor: onlyFor ?? null } });
    await this.touch(threadId);
    return id;
  }

  /** Replaces a post's content; false when it is not a post of this thread. */
  async updatePost(threadId: string, id: string, persona: Persona, view: MessageView): Promise<boolean> {
    const seal = await this.seal();
    const { count } = await this.prisma.webMessage.updateMany({
      where: { id, threadId, authorId: null },
      data: { ...personaData(persona), ...viewData(view, seal), version: { increment: 1 }, updatedAt: new Date() },
    });
    if (count) await this.touch(threadId);
    return count === 1;
  }

  /** Ids and versions of what `viewerId` may see in a thread: a live view compares them with what it has sent. */
  versions(threadId: string, viewerId: string) {
    return this.prisma.webMessage.findMany({ where: { threadId, ...visibleFor(viewerId) }, select: { id: true, version: true }, orderBy: { seq: 'asc' } });
  }

  async messages(threadId: string, viewerId: string, ids?: string[]): Promise<WebMessageRow[]> {
    const rows = await this.prisma.webMessage.findMany({ where: { threadId, ...visibleFor(viewerId), ...(ids ? { id: { in: ids } } : {}) }, orderBy: { seq: 'asc' }, take: 2_000 });
    return rows.map((r) => ({
      id: r.id, seq: r.seq, authorId: r.authorId,
      persona: { displayName: r.personaName, ...(r.personaEmoji ? { iconEmoji: r.personaEmoji } : {}), ...(r.personaIconUrl ? { iconUrl: r.personaIconUrl } : {}) },
      text: r.text, context: r.context,
      actions: actionSchema.safeParse(r.actions ?? []).data ?? [],
      files: filesSchema.safeParse(r.files ?? []).data ?? [],
      onlyFor: r.onlyFor, version: r.version, createdAt: r.createdAt,
    }));
  }

  /** Console users' emails by id (mentions are <@id>). */
  async names(ids: string[]): Promise<Map<string, string>> {
    if (!ids.length) return new Map();
    const rows = await this.prisma.adminUser.findMany({ where: { id: { in: ids } }, select: { id: true, email: true } });
    return new Map(rows.map((r) => [r.id, r.email]));
  }

  private touch(threadId: string) {
    return this.prisma.webThread.updateMany({ where: { id: threadId }, data: { updatedAt: new Date() } });
  }
}

const visibleFor = (viewerId: string): Prisma.WebMessageWhereInput => ({ OR: [{ onlyFor: null }, { onlyFor: viewerId }] });

const personaData = (p: Persona) => ({
  personaName: p.displayName.slice(0, 200),
  personaEmoji: p.iconEmoji?.slice(0, 100) ?? null,
  // only https images are shown (the console's CSP allows its own origin only, so they show as the emoji fallback)
  personaIconUrl: p.iconUrl && /^https:\/\//.test(p.iconUrl) ? p.iconUrl.slice(0, 2000) : null,
});

const viewData = (v: MessageView, seal: Sealer) => ({
  text: seal.text(v.text.slice(0, MAX_POST_TEXT)),
  context: v.context?.slice(0, 2_000) ?? null,
  actions: v.actions?.length ? actionSchema.parse(v.actions) : [],
});
