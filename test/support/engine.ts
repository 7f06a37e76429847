// The engine in-process, without HTTP and without Slack: the composition root (app/runtime.ts) builds EngineDeps with
// a recording ChatPort instead of a platform's, on one PostgreSQL database per test FILE (a clone of the run's
// migrated template), a real BullMQ queue on the shared Redis under a random prefix per engine, the real job handler
// in a worker in this process, and the fake OpenAI (or the offline demo model). Tests talk to the engine through its
// public API: `receive` for messages and `act` for buttons, as the edges do.
// Invariants: the tests of a file share its database, so each engine works in a channel of its own (every query a
// test makes is scoped to its channel, its threads or its workflows); closing an engine cancels the workflows it left
// under way and clears the access settings it made, so the next engine of the file resumes nothing of it.
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { loadConfig } from '../../app/config';
import { startRuntime, type Runtime } from '../../app/runtime';
import type { ActionId, ActOutcome, ChatPort, ChatPorts, EngineDeps, InboundMessage, MessageView, Orchestrator, Persona, ThreadRef } from '../../orchestrator';
import { createLogger, createOrchestrator } from '../../orchestrator';
import { ACTIVE_STATUSES, cancelWorkflow } from '../../orchestrator/workflow/transitions';
import { startFakeOpenAI, type FakeOpenAI, type Script } from './fake-openai';
import { deleteQueueKeys, REDIS_URL } from './harness';
import { createTestDatabase } from './test-database';
import { waitFor } from './wait';

// ---- the recording chat port ----

export interface RecordedPost {
  /** The message id the port returned. */
  id: string;
  thread: ThreadRef;
  persona: Persona;
  view: MessageView;
}

export interface RecordedUpdate {
  thread: ThreadRef;
  messageId: string;
  persona: Persona;
  view: MessageView;
}

export interface RecordedNote {
  thread: ThreadRef;
  person: { id: string; name?: string };
  text: string;
}

export interface RecordingChat extends ChatPort {
  posts: RecordedPost[];
  updates: RecordedUpdate[];
  /** Notes shown to one person (Slack: ephemeral). */
  notes: RecordedNote[];
  /** Reactions on people's messages (react). */
  reactions: { thread: ThreadRef; messageId: string; emoji: string }[];
  /** Working indicators shown in threads (working: Slack's assistant thread status). */
  statuses: { thread: ThreadRef; persona: Persona; status: string }[];
}

/** A ChatPort that keeps every post, update and note in memory, platform-neutral (the MessageView as the engine made
 * it). People are mentioned as `<@U123>`, like on Slack. */
export function recordingChat(): RecordingChat {
  let seq = 0;
  const chat: RecordingChat = {
    posts: [],
    updates: [],
    notes: [],
    reactions: [],
    statuses: [],
    async react(thread, messageId, emoji) {
      chat.reactions.push({ thread, messageId, emoji });
    },
    async working(thread, persona, status) {
      chat.statuses.push({ thread, persona, status });
    },
    async post(thread, persona, view) {
      const id = `m-${++seq}`;
      chat.posts.push({ id, thread, persona, view });
      return id;
    },
    async update(thread, messageId, persona, view) {
      chat.updates.push({ thread, messageId, persona, view });
    },
    mention: (userId) => `<@${userId}>`,
    mentionGroup: (groupId) => `<!subteam^${groupId}>`,
    nameOf: async (userId) => `<@${userId}>`,
    async notify(thread, person, text) {
      chat.notes.push({ thread, person, text });
    },
  };
  return chat;
}

/** The buttons of a view, by action id (the first of each). */
export function buttonsOf(post: { view: MessageView }): Partial<Record<ActionId, string>> {
  const out: Partial<Record<ActionId, string>> = {};
  for (const a of post.view.actions ?? []) out[a.id] ??= a.value;
  return out;
}

// ---- one database per test file ----

export interface EngineOptions {
  /** Environment variables on top of the harness's (e.g. ROLES_DIR, STEP_ATTEMPTS). */
  env?: Record<string, string>;
  script?: Script;
  /** Run the worker (default true); without it, jobs wait in the queue. */
  worker?: boolean;
}

export interface EngineSuite {
  /** An engine on this file's database, closed after the test. */
  start(opts?: EngineOptions): Promise<Engine>;
}

/** Call once at the top of a test file: one database for the file, every engine closed after its test. */
export function engineSuite(): EngineSuite {
  let db: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  const open: Engine[] = [];
  beforeAll(async () => { db = await createTestDatabase(); });
  afterEach(async () => {
    const engines = open.splice(0);
    for (const e of engines) await e.close();
  });
  afterAll(async () => { await db?.drop(); });
  return {
    async start(opts = {}) {
      if (!db) throw new Error('engineSuite(): the file database is not ready (call start() inside a test)');
      const engine = await startEngine(db.url, opts);
      open.push(engine);
      return engine;
    },
  };
}

// ---- the engine ----

export interface Engine {
  deps: EngineDeps;
  prisma: EngineDeps['prisma'];
  orchestrator: Orchestrator;
  runtime: Runtime;
  chat: RecordingChat;
  openai: FakeOpenAI;
  /** The environment the engine's config was parsed from (to start another process of it, e.g. a worker). */
  env: Record<string, string>;
  /** The conversation of this engine: every thread of the test is in it. */
  teamId: string;
  channelId: string;
  /** When the engine started (rows without a workflow, e.g. intent calls, are scoped by it). */
  startedAt: Date;
  /** A person mentions Rolecall in a new thread (or in `threadTs`); resolves once the message is queued. */
  mention(text: string, opts?: { user?: string; threadTs?: string }): Promise<ThreadRef>;
  /** A person's reply in a thread, without a mention. */
  reply(threadTs: string, text: string, user?: string): Promise<void>;
  /** A person presses a button of a post in this engine's conversation: act(), as an edge calls it. */
  press(action: ActionId, value: string, user?: string, feedback?: string): Promise<ActOutcome>;
  /** Posts in a thread, in order. */
  posts(threadTs: string): RecordedPost[];
  /** The thread's messages as they read now: each post with the view of its latest edit (a step's status message
   *  becomes its output). */
  messages(threadTs: string): RecordedPost[];
  /** Posts in a thread that carry the Approve button (gates), in order. */
  gates(threadTs: string): RecordedPost[];
  waitForGate(threadTs: string, n: number): Promise<RecordedPost>;
  waitForPost(threadTs: string, match: (p: RecordedPost) => boolean, what: string): Promise<RecordedPost>;
  /** Updates of one posted message, in order. */
  updatesOf(post: RecordedPost): RecordedUpdate[];
  /** The thread's (latest) workflow with its steps (by position) and approvals. */
  workflow(threadTs: string): ReturnType<typeof findWorkflow>;
  /** Waits until the workflow has this status and its posts have gone out (posting is asynchronous: the outbox). */
  waitForStatus(threadTs: string, status: string): Promise<void>;
  /** Waits until every post the engine decided in this conversation has been sent (the poster drained the outbox). */
  postsSent(): Promise<void>;
  close(): Promise<void>;
}

const findWorkflow = (prisma: EngineDeps['prisma'], channelId: string, threadTs: string) =>
  prisma.workflow.findFirst({
    where: { channelId, threadTs },
    orderBy: { createdAt: 'desc' },
    include: { steps: { orderBy: { position: 'asc' } }, approvals: true },
  });

let tsSeq = 1_900_000_000;
const nextTs = () => `${tsSeq++}.${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}`;

async function startEngine(databaseUrl: string, opts: EngineOptions): Promise<Engine> {
  const openai = await startFakeOpenAI(opts.script);
  const prefix = `e_${randomBytes(5).toString('hex')}`;
  const env: Record<string, string> = {
    NODE_ENV: 'test', PORT: '0', LOG_LEVEL: 'error', DATABASE_URL: databaseUrl, REDIS_URL, QUEUE_PREFIX: prefix,
    OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: openai.baseURL, STEP_ATTEMPTS: '3', STEP_BACKOFF_MS: '50',
    LLM_TIMEOUT_MS: '30000', // the local fake answers at once: only a busy machine could make it late
    ...opts.env,
  };
  const chat = recordingChat();
  const chatPorts: ChatPorts = { slack: chat };
  const startedAt = new Date();
  let runtime: Runtime;
  try {
    runtime = await startRuntime(loadConfig(env), { server: false, worker: opts.worker ?? true, migrate: true, chat: chatPorts }, createLogger('error'));
  } catch (e) {
    await openai.close();
    throw e;
  }
  const deps = runtime.deps;
  const orchestrator = createOrchestrator(deps);
  const teamId = 'T1';
  const channelId = `C_${randomBytes(4).toString('hex').toUpperCase()}`;
  const thread = (threadTs: string): ThreadRef => ({ platform: 'slack', teamId, channelId, threadTs });
  const message = (text: string, threadTs: string, user: string, mentioned: boolean): InboundMessage => {
    const ts = nextTs();
    return { platform: 'slack', teamId, channelId, threadTs: threadTs || ts, messageTs: ts, userId: user, text, mentioned };
  };
  const posts = (threadTs: string) => chat.posts.filter((p) => p.thread.channelId === channelId && p.thread.threadTs === threadTs);
  const gates = (threadTs: string) => posts(threadTs).filter((p) => 'approve' in buttonsOf(p));
  let closed = false;
  const engine: Engine = {
    deps, prisma: deps.prisma, orchestrator, runtime, chat, openai, env, teamId, channelId, startedAt,
    async mention(text, o = {}) {
      const m = message(text, o.threadTs ?? '', o.user ?? 'U_ALICE', true);
      await orchestrator.receive(m);
      return thread(m.threadTs);
    },
    reply: (threadTs, text, user = 'U_ALICE') => orchestrator.receive(message(text, threadTs, user, false)),
    press: (action, value, user = 'U_ALICE', feedback) =>
      orchestrator.act(action, value, { kind: 'chat', platform: 'slack', userId: user, teamId, channelId }, feedback),
    posts,
    messages: (threadTs) => posts(threadTs).map((p) => ({ ...p, view: chat.updates.filter((u) => u.messageId === p.id).at(-1)?.view ?? p.view })),
    gates,
    waitForGate: (threadTs, n) => waitFor(() => gates(threadTs)[n - 1], `gate ${n}`),
    waitForPost: (threadTs, match, what) => waitFor(() => posts(threadTs).find(match), what),
    updatesOf: (post) => chat.updates.filter((u) => u.messageId === post.id),
    workflow: (threadTs) => findWorkflow(deps.prisma, channelId, threadTs),
    waitForStatus: async (threadTs, status) => {
      await waitFor(async () => (await findWorkflow(deps.prisma, channelId, threadTs))?.status === status, `workflow ${status}`);
      await engine.postsSent();
    },
    postsSent: async () =>
      void (await waitFor(async () => (await deps.prisma.chatOutbox.count({ where: { channel: `slack:${teamId}:${channelId}`, status: { in: ['pending', 'sending'] } } })) === 0, 'the posts to be sent')),
    async close() {
      if (closed) return;
      closed = true;
      try {
        // Nothing this engine started may be resumed by the next engine on the file's database.
        const left = await deps.prisma.workflow.findMany({ where: { channelId, status: { in: ['planned', ...ACTIVE_STATUSES] } }, select: { id: true } });
        for (const w of left) await cancelWorkflow(deps.prisma, w.id);
        await deps.prisma.gatePolicy.deleteMany();
        await deps.prisma.chatUserRole.deleteMany();
      } finally {
        await runtime.close();
        await Promise.all([openai.close(), deleteQueueKeys(prefix)]);
      }
    },
  };
  return engine;
}
