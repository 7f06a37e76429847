// The playground (/admin/playground) and its web chat adapter over in-process requests on real Postgres and Redis,
// with the offline demo model: a workflow run from the console (plan, gates decided through act() with the console
// user as the actor, a reply, an upload through the files pipeline), the live stream, and attacks on it (another
// user's thread, a button of another thread, CSRF, markup in messages, oversized input). Also `/` and the routes of
// platforms that are off.
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ALL_ROLES, newApiKey } from '../agents/mcp/api-keys';
import { webChat, webFiles } from '../bot/web/chat';
import { toDto } from '../bot/web/render';
import { WebStore } from '../bot/web/store';
import { ChannelUnreachableError, MessageRejectedError } from '../orchestrator/chat';
import { FileDownloadFailed } from '../orchestrator/files';
import { createLogger } from '../orchestrator/log';
import { upsertAdminUser } from '../web-admin/auth/bootstrap';
import { adminClient, ORIGIN, type AdminClient } from './support/admin-client';
import { rolesCopy } from './support/admin-flow';
import { startHarness, WAIT_MS, waitFor, type Harness } from './support/harness';

const PASSWORD = 'a long enough password';
let h: Harness;
let app: Hono;
const as: Record<'alice' | 'bob' | 'carol', AdminClient> = {} as never;
const users: Record<string, string> = {};
const logLines: string[] = [];

interface Msg { id: string; person: boolean; mine: boolean; onlyMe: boolean; author: { name: string; avatar: string }; text: string; context?: string; actions: { id: string; value: string }[]; files: { name: string }[] }

beforeAll(async () => {
  // no model configured: the offline demo model; no Slack and no Teams: their routes are off
  h = await startHarness({ env: { ADMIN_SESSION_SECRET: 'playground-test-session-secret-0123456789', ROLES_DIR: rolesCopy(), OPENAI_API_KEY: '', OPENAI_BASE_URL: '', SLACK_SIGNING_SECRET: '', SLACK_BOT_TOKEN: '' }, log: createLogger('info', (line) => void logLines.push(line)) });
  app = h.runtime.app!;
  for (const [name, role] of [['alice', 'approver'], ['bob', 'viewer'], ['carol', 'admin']] as const) {
    await upsertAdminUser(h.prisma, `${name}@example.com`, PASSWORD, role);
    users[name] = (await h.prisma.adminUser.findUniqueOrThrow({ where: { email: `${name}@example.com` } })).id;
    as[name] = adminClient(app);
    expect((await as[name].signIn(`${name}@example.com`, PASSWORD)).status).toBe(303);
  }
});

afterAll(async () => {
  await h?.close();
});

const thread = async (c: AdminClient, id: string) => (await c.get(`/admin/api/playground/threads/${id}`)).json() as Promise<{ messages: Msg[] }>;
const send = async (c: AdminClient, text: string, threadId?: string) => c.post('/admin/api/playground/messages', { text, ...(threadId ? { threadId } : {}) });
const press = async (c: AdminClient, threadId: string, action: string, value: string, feedback?: string) =>
  c.request(`/admin/api/playground/threads/${threadId}/actions`, {
    method: 'POST', headers: { 'content-type': 'application/json', origin: ORIGIN, 'x-csrf-token': await c.csrf() }, body: JSON.stringify({ action, value, ...(feedback ? { feedback } : {}) }),
  });
/** The message of the n-th approval of a thread (1-based), once it has its buttons (a decided gate loses them). */
const gate = async (c: AdminClient, threadId: string, n: number) => {
  try {
    return await waitFor(async () => {
      const approval = (await pending(threadId))[n - 1];
      return approval && (await thread(c, threadId)).messages.find((m) => m.actions.some((a) => a.id === 'approve' && a.value === approval.id));
    }, `gate ${n}`, 2 * WAIT_MS);
  } catch (e) {
    const steps = await h.prisma.step.findMany({ where: { workflow: { channelId: threadId } }, orderBy: { position: 'asc' } });
    throw new Error(`${String(e)}\nthread: ${JSON.stringify((await thread(c, threadId)).messages.map((m) => [m.author.name, m.text.slice(0, 300), m.actions.map((a) => a.id)]), null, 1)}\nsteps: ${JSON.stringify(steps.map((s) => [s.roleId, s.status, s.error]))}`);
  }
};
const pending = (threadId: string) => h.prisma.approval.findMany({ where: { workflow: { channelId: threadId } }, orderBy: { createdAt: 'asc' } });

let aliceThread = '';

describe('the playground', () => {
  it('runs a workflow from the console: the plan, personas with avatars, the demo label, a gate approved by the console user', async () => {
    const page = await (await as.alice.get('/admin/playground')).text();
    expect(page).toContain('id="pg-composer"');
    expect(page).toContain('Offline demo model');
    const res = await send(as.alice, 'we need a login page with SSO for our customer portal');
    expect(res.status).toBe(201);
    aliceThread = ((await res.json()) as { threadId: string }).threadId;
    const wf = await waitFor(() => h.prisma.workflow.findFirst({ where: { platform: 'web', channelId: aliceThread } }), 'the workflow');
    expect(wf).toMatchObject({ teamId: 'playground', threadTs: aliceThread, requestedBy: users.alice });
    const first = await gate(as.alice, aliceThread, 1);
    const { messages } = await thread(as.alice, aliceThread);
    expect(messages[0]).toMatchObject({ person: true, mine: true, text: 'we need a login page with SSO for our customer portal' });
    expect(messages.find((m) => m.text.includes('Plan'))).toMatchObject({ author: { name: 'Rolecall', avatar: '🤖' } });
    const output = messages.find((m) => m.author.name === 'Business Analyst' && m.context?.includes('Offline demo model'));
    expect(output?.author.avatar).toBe('📝');
    expect(output?.text).toContain('As a '); // a plausible user story, not the request repeated in every bullet
    expect(output!.text.split('customer portal').length - 1).toBeLessThanOrEqual(1);
    expect(messages.every((m) => !/:[a-z_]+:/.test(m.text))).toBe(true); // shortcodes shown as emoji

    expect((await press(as.alice, aliceThread, 'approve', first.actions.find((a) => a.id === 'approve')!.value)).status).toBe(202);
    await waitFor(async () => (await pending(aliceThread))[0]?.status === 'approved' || undefined, 'the approval');
    expect((await pending(aliceThread))[0]).toMatchObject({ decidedBy: users.alice });
    expect(await h.prisma.auditLog.findFirst({ where: { action: 'gate.approved', actor: `web:${users.alice}` } })).toBeTruthy();
    await waitFor(async () => (await thread(as.alice, aliceThread)).messages.find((m) => m.text.includes('Approved by @alice@example.com')), 'the decided gate');
  });

  it('takes a reply with a file through the files pipeline, and the live stream sends the thread', async () => {
    const form = new FormData();
    form.set('threadId', aliceThread);
    form.set('text', 'Notes from the customer call are attached.');
    form.set('file', new File(['SSO: Okta and Entra ID. Sessions end after 12 hours.'], 'call-notes.txt', { type: 'text/plain' }));
    const res = await as.alice.request('/admin/api/playground/messages', { method: 'POST', body: form, headers: { origin: ORIGIN, 'x-csrf-token': await as.alice.csrf() } });
    expect(res.status).toBe(201);
    const wf = await h.prisma.workflow.findFirstOrThrow({ where: { channelId: aliceThread } });
    const file = await waitFor(() => h.prisma.sharedFile.findFirst({ where: { workflowId: wf.id, platform: 'web' } }), 'the shared file');
    expect(file).toMatchObject({ name: 'call-notes.txt', status: 'extracted' });
    await waitFor(() => h.prisma.threadReply.findFirst({ where: { workflowId: wf.id, text: 'Notes from the customer call are attached.' } }), 'the thread reply');
    expect((await thread(as.alice, aliceThread)).messages.find((m) => m.files.length)?.files).toEqual([expect.objectContaining({ name: 'call-notes.txt' })]);

    const stream = await as.alice.get(`/admin/api/playground/threads/${aliceThread}/events`);
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    const reader = stream.body!.getReader();
    let seen = '';
    while (!seen.includes('event: ready')) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += new TextDecoder().decode(value);
    }
    await reader.cancel();
    expect(seen).toContain('event: message');
    expect(seen).toContain('call-notes.txt');
  });

  it('requests changes with feedback, and applies the gate RBAC to the console user', async () => {
    const second = await gate(as.alice, aliceThread, 2);
    await h.prisma.gatePolicy.create({ data: { roleId: 'technical_architect', minRole: 'admin' } });
    const value = second.actions.find((a) => a.id === 'request_changes')!.value;
    await press(as.alice, aliceThread, 'request_changes', value, 'Add the audit requirements');
    const note = await waitFor(async () => (await thread(as.alice, aliceThread)).messages.find((m) => m.onlyMe && /admin role/.test(m.text)), 'the refusal note');
    expect(note.text).toContain('You may not decide this gate');
    expect((await thread(as.carol, aliceThread)).messages.some((m) => m.id === note.id)).toBe(false); // only alice sees it
    // carol, an admin, sees alice's thread (her RBAC scope) and may decide
    await press(as.carol, aliceThread, 'request_changes', value, 'Add the audit requirements');
    await waitFor(async () => (await pending(aliceThread)).find((a) => a.status === 'changes_requested'), 'changes requested');
    expect((await pending(aliceThread)).find((a) => a.status === 'changes_requested')).toMatchObject({ decidedBy: users.carol, feedback: 'Add the audit requirements' });
    await gate(as.alice, aliceThread, 3); // the revised design asks again
  });
});

describe('attacks on the playground', () => {
  it('hides a thread from another user: list, page, JSON, stream, replies and buttons', async () => {
    const list = (await (await as.bob.get('/admin/api/playground/threads')).json()) as { id: string }[];
    expect(list.map((t) => t.id)).not.toContain(aliceThread);
    const page = await (await as.bob.get(`/admin/playground?thread=${aliceThread}`)).text();
    expect(page).not.toContain(aliceThread);
    expect(page).not.toContain('id="pg-title"');
    expect((await as.bob.get(`/admin/api/playground/threads/${aliceThread}`)).status).toBe(404);
    expect((await as.bob.get(`/admin/api/playground/threads/${aliceThread}/events`)).status).toBe(404);
    expect((await send(as.bob, 'hijack', aliceThread)).status).toBe(404);
    const open = (await pending(aliceThread)).find((a) => a.status === 'pending')!;
    expect((await press(as.bob, aliceThread, 'approve', open.id)).status).toBe(404);
    // a button value of alice's thread pressed in bob's own thread: act() refuses it (another conversation)
    const own = ((await (await send(as.bob, 'hello there')).json()) as { threadId: string }).threadId;
    expect((await press(as.bob, own, 'approve', open.id)).status).toBe(202);
    await waitFor(() => h.prisma.auditLog.findFirst({ where: { actor: `web:${users.bob}`, action: 'gate.refused' } }), 'the refusal');
    expect((await h.prisma.approval.findUniqueOrThrow({ where: { id: open.id } })).status).toBe('pending');
    // carol (admin) lists every thread, bob only his own
    expect(((await (await as.carol.get('/admin/api/playground/threads')).json()) as { id: string }[]).map((t) => t.id)).toEqual(expect.arrayContaining([aliceThread, own]));
  });

  it('needs the CSRF token and the page origin on every post', async () => {
    expect((await as.alice.post('/admin/api/playground/messages', { text: 'no token' }, { csrf: null })).status).toBe(403);
    expect((await as.alice.post('/admin/api/playground/messages', { text: 'other origin' }, { origin: 'https://evil.example' })).status).toBe(403);
    const json = await as.alice.request(`/admin/api/playground/threads/${aliceThread}/actions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ action: 'approve', value: 'x' }) });
    expect(json.status).toBe(403);
  });

  it('escapes markup and bounds input', async () => {
    const evil = '<img src=x onerror=alert(1)> <script>alert(2)</script>';
    const res = await send(as.alice, evil);
    expect(res.status).toBe(201);
    const page = await (await as.alice.get('/admin/playground')).text();
    expect(page).not.toContain('<img src=x');
    expect(page).not.toContain('<script>alert');
    expect(page).toContain('&lt;img src=x');
    expect((await send(as.alice, 'x'.repeat(4001))).status).toBe(400);
    expect((await send(as.alice, '   ')).status).toBe(400);
    const anonymous = await app.request(`${ORIGIN}/admin/api/playground/threads`);
    expect(anonymous.status).toBe(401);
  });
});

describe('the start page and routes that are off', () => {
  it('answers / with links to the console, the playground, health and docs', async () => {
    const res = await app.request(`${ORIGIN}/`);
    expect(res.status).toBe(200);
    const html = await res.text();
    for (const link of ['href="/admin/playground"', 'href="/admin"', 'href="/health"', '/mcp', 'README.md']) expect(html).toContain(link);
    expect(html).toContain('offline demo model');
  });

  it('names /mcp, the playground and what to do next in the start-up log', () => {
    const log = logLines.join('\n');
    expect(log).toMatch(/MCP: \/mcp needs an API key/);
    expect(log).toMatch(/Playground: http:\/\/127\.0\.0\.1:\d+\/admin\/playground .*type a request.*offline demo model/);
  });

  it('says that Slack and Teams are not configured instead of 404', async () => {
    const slack = await app.request(`${ORIGIN}/slack/events`, { method: 'POST', body: '{}' });
    expect(slack.status).toBe(503);
    expect(await slack.text()).toMatch(/Slack is not configured.*SLACK_SIGNING_SECRET.*playground/s);
    const teams = await app.request(`${ORIGIN}/api/messages`, { method: 'POST', body: '{}' });
    expect(teams.status).toBe(503);
    expect(await teams.text()).toMatch(/Teams is not configured.*TEAMS_APP_ID/s);
  });
});

describe('the web ChatPort and its file downloader', () => {
  it('posts, updates and notifies in a thread; a deleted thread is unreachable', async () => {
    const store = new WebStore(h.prisma);
    const chat = webChat(store);
    const alice = { id: users.alice!, email: 'alice@example.com', role: 'approver' as const };
    const t = (await store.createThread(alice, 'adapter test'))!;
    const ref = { platform: 'web' as const, teamId: 'playground', channelId: t.id, threadTs: t.id };
    const id = await chat.post(ref, { displayName: 'QA Tester', iconEmoji: ':mag:' }, { text: `:mag: for ${chat.mention(alice.id)}`, actions: [{ id: 'approve', label: 'Approve', value: 'x' }] });
    await chat.update(ref, id, { displayName: 'QA Tester', iconEmoji: ':mag:' }, { text: 'done' });
    await chat.notify(ref, { id: users.bob! }, 'only for bob');
    const rows = await store.messages(t.id, alice.id);
    expect(rows).toHaveLength(1); // bob's note is not alice's to see
    expect(rows[0]).toMatchObject({ text: 'done', version: 2, actions: [] });
    expect((await store.messages(t.id, users.bob!)).map((r) => r.onlyFor)).toEqual([null, users.bob]);
    const dto = toDto({ ...rows[0]!, text: `:mag: <@${alice.id}> <b>x</b>` }, alice.id, new Map([[alice.id, alice.email]]));
    expect(dto).toMatchObject({ text: '🔍 @alice@example.com <b>x</b>', author: { avatar: '🔍' }, person: false }); // text stays text: the browser never parses it as HTML
    await expect(chat.update(ref, 'no-such-message', { displayName: 'x' }, { text: 'y' })).rejects.toBeInstanceOf(MessageRejectedError);
    await store.deleteThread(t.id);
    await expect(chat.post(ref, { displayName: 'x' }, { text: 'y' })).rejects.toBeInstanceOf(ChannelUnreachableError);
  });

  it('downloads only playground uploads, by their hash, within the size limit', async () => {
    const bytes = new TextEncoder().encode('hello');
    const sha = 'a'.repeat(64);
    const files = webFiles({ get: async (s) => (s === sha ? bytes : undefined) });
    expect(await files.download({ id: '1', name: 'a.txt', url: `rolecall-web://files/${sha}` }, 100)).toEqual(bytes);
    await expect(files.download({ id: '1', name: 'a.txt', url: 'https://evil.example/a.txt' }, 100)).rejects.toBeInstanceOf(FileDownloadFailed);
    await expect(files.download({ id: '1', name: 'a.txt', url: `rolecall-web://files/${'b'.repeat(64)}` }, 100)).rejects.toBeInstanceOf(FileDownloadFailed);
    await expect(files.download({ id: '1', name: 'a.txt', url: `rolecall-web://files/${sha}` }, 3)).rejects.toThrow();
  });
});

describe('the offline demo model over MCP', () => {
  it('labels run_task output as the offline demo model, like chat posts, with plausible content', async () => {
    const k = newApiKey();
    await h.prisma.mcpApiKey.create({ data: { name: 'demo label', prefix: k.prefix, hash: k.hash, roles: [ALL_ROLES], readArtifacts: true, runTasks: true, createdBy: 'test' } });
    const c = new Client({ name: 'test', version: '1.0.0' });
    await c.connect(new StreamableHTTPClientTransport(new URL(`${h.url}/mcp/business_analyst`), { requestInit: { headers: { Authorization: `Bearer ${k.key}` } } }));
    const res = await c.callTool({ name: 'run_task', arguments: { task: 'add CSV export to the billing report' } });
    await c.close();
    expect(res.isError).toBeFalsy();
    const texts = (res.content as { text: string }[]).map((t) => t.text);
    expect(texts.at(-1)).toMatch(/^model: demo\. Offline demo model/);
    const doc = (res.structuredContent as { requirements_doc: { user_stories: { story: string }[] } }).requirements_doc;
    expect(doc.user_stories[0]!.story).toMatch(/^As a .+, I want .+, so that /);
    expect(JSON.stringify(doc).split('billing report').length - 1).toBe(1); // the request named once, not in every bullet
  });
});

describe('the playground on a configured model', () => {
  let g: Harness;
  afterAll(async () => {
    await g?.close();
  });

  it('runs the same workflow on the model, without the demo label', async () => {
    g = await startHarness({ env: { ADMIN_SESSION_SECRET: 'playground-model-session-secret-0123456789', ROLES_DIR: rolesCopy() } }); // the fake OpenAI
    await upsertAdminUser(g.prisma, 'dana@example.com', PASSWORD, 'owner');
    const dana = adminClient(g.runtime.app!);
    expect((await dana.signIn('dana@example.com', PASSWORD)).status).toBe(303);
    expect(await (await dana.get('/admin/playground')).text()).not.toContain('id="demo-label"');
    const res = await send(dana, 'we need a login page with SSO for our customer portal');
    const { threadId } = (await res.json()) as { threadId: string };
    const output = await waitFor(async () => (await thread(dana, threadId)).messages.find((m) => m.author.name === 'Business Analyst' && /model: /.test(m.context ?? '')), 'the model output', 2 * WAIT_MS);
    expect(output.context).not.toContain('demo');
    expect(g.openai.requests.length).toBeGreaterThan(0);
  });
});
