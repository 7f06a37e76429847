// The playground (/admin/playground): a chat in the console that looks like a thread, on the web ChatPort. A person's
// message goes to the orchestrator like a Slack mention (Orchestrator.receive), a button press like a Slack click
// (Orchestrator.click: act() with the console user as the chat actor, platform "web", under the same gate RBAC), and
// the thread's posts reach the browser live over Server-Sent Events (hono/streaming), read from PostgreSQL.
// Invariants: mounted behind the console's requireUser and origin check; every post also needs the session's CSRF
// token; a thread answers only to a user who may see it (WebStore.visibleThread: 404 otherwise, as if absent); input
// is bounded (text, files, threads, messages) and validated with zod; nothing is sent to the browser as HTML except
// the JSX page, whose values hono/jsx escapes.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Context, Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import { ACTION_IDS } from '../../orchestrator/contract';
import type { Orchestrator } from '../../orchestrator';
import type { InboundFile, InboundMessage, ThreadRef } from '../../orchestrator/chat';
import type { Logger } from '../../orchestrator/log';
import { requireCsrfToken } from '../../web-admin/auth/guard';
import type { ConsoleEnv } from '../../web-admin/context';
import { CsrfField, Page } from '../../web-admin/views/layout';
import { webFileUrl } from './chat';
import { mentionedIds, toDto, type WebMessageDto } from './render';
import { MAX_WEB_TEXT, MAX_WEB_THREADS, WEB_TEAM, type WebStore, type WebThreadRow, type WebUser } from './store';

export interface PlaygroundDeps {
  store: WebStore;
  orchestrator: Pick<Orchestrator, 'receive' | 'click'>;
  /** The roles answer with the offline demo model (no model configured): the page says so. */
  demoModel: boolean;
  /** Where uploads go (the workflow's files pipeline reads them back); absent: no uploads. */
  files?: { put(bytes: Uint8Array, mime: string): Promise<{ sha256: string }>; maxBytes: number };
  /** How often a live view looks for changes (default 400 ms) and how long one stream lasts before the browser
   *  reconnects (default 5 minutes). */
  pollMs?: number;
  streamMs?: number;
  log: Logger;
}

/** One upload per message, at most this large (the HTTP body limit is 1 MB for every request). */
export const MAX_WEB_UPLOAD_BYTES = 900 * 1024;

const idParam = z.object({ id: z.string().uuid() });
const messageForm = z.object({
  threadId: z.string().uuid().optional(),
  text: z.string().trim().min(1, 'Write a message first.').max(MAX_WEB_TEXT, `At most ${MAX_WEB_TEXT} characters.`),
});
const actionBody = z.object({
  action: z.enum(ACTION_IDS),
  value: z.string().min(1).max(300),
  feedback: z.string().trim().max(3_000).optional(),
});

const EXAMPLES = [
  'We need a login page with SSO for our customer portal',
  'Triage this bug: exports time out for reports over 10,000 rows',
  'Write a test plan for the new billing CSV export',
];

const script = readFileSync(path.join(import.meta.dirname, 'assets/playground.js'), 'utf8');

const userOf = (c: Context<ConsoleEnv>): WebUser => c.get('user');
const threadRef = (t: WebThreadRow): ThreadRef => ({ platform: 'web', teamId: WEB_TEAM, channelId: t.id, threadTs: t.id });

export function mountPlayground(app: Hono<ConsoleEnv>, deps: PlaygroundDeps): void {
  const { store } = deps;
  const pollMs = deps.pollMs ?? 400;
  const streamMs = deps.streamMs ?? 5 * 60_000;

  const dtos = async (threadId: string, viewerId: string, ids?: string[]): Promise<WebMessageDto[]> => {
    const rows = await store.messages(threadId, viewerId, ids);
    const names = await store.names(mentionedIds(rows));
    return rows.map((r) => toDto(r, viewerId, names));
  };

  app.get('/admin/playground/playground.js', (c) => c.body(script, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' }));

  app.get('/admin/playground', async (c) => {
    const user = userOf(c);
    const threads = await store.threadsOf(user);
    const wanted = c.req.query('thread');
    const current = wanted && idParam.safeParse({ id: wanted }).success ? await store.visibleThread(user, wanted) : undefined;
    const csrf = c.get('session').csrf;
    return c.html(
      <Page title="Playground" user={c.get('user')} csrf={csrf} active="playground" scripts={['/admin/playground/playground.js']}>
        {deps.demoModel && (
          <p class="notice demo" id="demo-label" role="note">
            Offline demo model: the roles answer with deterministic example text, not AI output. Set OPENAI_API_KEY (or OLLAMA_HOST) for real answers.
          </p>
        )}
        <div class="playground" id="playground" data-thread={current?.id ?? ''} data-csrf={csrf} data-max-upload={String(deps.files ? Math.min(MAX_WEB_UPLOAD_BYTES, deps.files.maxBytes) : 0)}>
          <aside class="pg-threads">
            <a class="pg-new" href="/admin/playground">+ New thread</a>
            <ul id="pg-thread-list">
              {threads.map((t) => (
                <li class={t.id === current?.id ? 'active' : ''}>
                  <a href={`/admin/playground?thread=${t.id}`}>{t.title}</a>
                  {t.ownerId !== user.id && <small> · {t.ownerEmail}</small>}
                </li>
              ))}
            </ul>
            {threads.length === 0 && <p class="pg-empty">No threads yet: type a request to start one.</p>}
          </aside>
          <section class="pg-thread" aria-live="polite">
            {current ? <h2 id="pg-title">{current.title}</h2> : (
              <div class="pg-intro" id="pg-intro">
                <h2>Try Rolecall here, without Slack or Teams</h2>
                <p>Type a request as you would mention @Rolecall in a channel: you see the plan, each role posts as itself, and you decide at each approval gate. Replies below go to the running workflow.</p>
                <p>Examples:</p>
                <ul class="pg-examples">{EXAMPLES.map((e) => <li><button type="button" class="pg-example" data-text={e}>{e}</button></li>)}</ul>
              </div>
            )}
            <ol id="pg-messages" class="pg-messages"></ol>
            <p id="pg-status" class="pg-status" role="status"></p>
            <form id="pg-composer" class="pg-composer" method="post" action="/admin/api/playground/messages" enctype="multipart/form-data">
              <CsrfField token={csrf} />
              {current && <input type="hidden" name="threadId" value={current.id} />}
              <label for="pg-text" class="sr-only">Message</label>
              <textarea id="pg-text" name="text" maxlength={MAX_WEB_TEXT} required placeholder={current ? 'Reply in this thread…' : 'Describe what you need, e.g. "we need a login page with SSO"'}></textarea>
              <div class="pg-send">
                {deps.files && <input type="file" id="pg-file" name="file" />}
                <button type="submit" id="pg-submit">{current ? 'Reply' : 'Send'}</button>
              </div>
            </form>
          </section>
        </div>
      </Page>,
    );
  });

  app.get('/admin/api/playground/threads', async (c) => {
    const threads = await store.threadsOf(userOf(c));
    return c.json(threads.map((t) => ({ id: t.id, title: t.title, owner: t.ownerEmail, updatedAt: t.updatedAt })));
  });

  app.get('/admin/api/playground/threads/:id', async (c) => {
    const user = userOf(c);
    const p = idParam.safeParse(c.req.param());
    const t = p.success ? await store.visibleThread(user, p.data.id) : undefined;
    if (!t) return c.json({ error: 'not_found' }, 404);
    return c.json({ id: t.id, title: t.title, messages: await dtos(t.id, user.id) });
  });

  // A person's message: a new thread (no threadId) or a reply, with at most one file.
  app.post('/admin/api/playground/messages', requireCsrfToken(), async (c) => {
    const user = userOf(c);
    const body = await c.req.parseBody();
    const form = messageForm.safeParse({ threadId: typeof body.threadId === 'string' && body.threadId ? body.threadId : undefined, text: typeof body.text === 'string' ? body.text : '' });
    if (!form.success) return c.json({ error: 'bad_request', message: form.error.issues[0]?.message ?? 'bad request' }, 400);
    const upload = body.file instanceof File && body.file.size > 0 ? body.file : undefined;
    if (upload && !deps.files) return c.json({ error: 'bad_request', message: 'Uploads need a file store (FILES_DIR or S3_BUCKET).' }, 400);
    const maxUpload = Math.min(MAX_WEB_UPLOAD_BYTES, deps.files?.maxBytes ?? 0);
    if (upload && upload.size > maxUpload) return c.json({ error: 'too_large', message: `A file may be at most ${Math.floor(maxUpload / 1024)} KB here.` }, 413);
    let thread: WebThreadRow | undefined;
    if (form.data.threadId) {
      thread = await store.visibleThread(user, form.data.threadId);
      if (!thread) return c.json({ error: 'not_found' }, 404);
    } else {
      thread = await store.createThread(user, form.data.text.split('\n')[0]!);
      if (!thread) return c.json({ error: 'too_many_threads', message: `You have ${MAX_WEB_THREADS} threads: delete one first.` }, 429);
    }
    let files: InboundFile[] = [];
    if (upload && deps.files) {
      const bytes = new Uint8Array(await upload.arrayBuffer());
      const stored = await deps.files.put(bytes, upload.type || 'application/octet-stream');
      const name = upload.name.replace(/[\u0000-\u001f]/g, '').slice(0, 200) || 'file';
      files = [{ id: stored.sha256.slice(0, 32), name, url: webFileUrl(stored.sha256), bytes: bytes.length, ...(upload.type ? { mime: upload.type.slice(0, 200) } : {}) }];
    }
    const saved = await store.addPersonMessage(thread.id, user, form.data.text, files.map((f) => ({ name: f.name, bytes: f.bytes ?? 0 })));
    if (!saved) return c.json({ error: 'too_many_messages', message: 'This thread is full: start a new one.' }, 429);
    const message: InboundMessage = {
      ...threadRef(thread), messageTs: saved.id, sentAt: saved.createdAt.toISOString(), userId: user.id, text: form.data.text,
      mentioned: true, ...(files.length ? { files } : {}),
    };
    try {
      await deps.orchestrator.receive(message);
    } catch (e) {
      await store.removeMessage(saved.id); // not kept: the person sends it again
      if (!form.data.threadId) await store.deleteThread(thread.id);
      throw e; // answered 503 by the HTTP root (a dependency is down)
    }
    return c.json({ threadId: thread.id, messageId: saved.id }, 201);
  });

  // A button in a thread: queued like a Slack click; the outcome reaches the thread (a note only this user sees).
  app.post('/admin/api/playground/threads/:id/actions', requireCsrfToken(), async (c) => {
    const user = userOf(c);
    const p = idParam.safeParse(c.req.param());
    const thread = p.success ? await store.visibleThread(user, p.data.id) : undefined;
    if (!thread) return c.json({ error: 'not_found' }, 404);
    const body = actionBody.safeParse(await c.req.json().catch(() => undefined));
    if (!body.success) return c.json({ error: 'bad_request' }, 400);
    const ref = threadRef(thread);
    const answer = await deps.orchestrator.click({
      deliveryId: randomUUID(), action: body.data.action, value: body.data.value,
      actor: { kind: 'chat', platform: 'web', userId: user.id, teamId: WEB_TEAM, channelId: thread.id },
      ...(body.data.feedback ? { feedback: body.data.feedback } : {}),
      reply: { thread: ref, person: { id: user.id, name: user.email } },
    });
    return c.json({ text: answer.text }, 202);
  });

  app.post('/admin/api/playground/threads/:id/delete', requireCsrfToken(), async (c) => {
    const user = userOf(c);
    const p = idParam.safeParse(c.req.param());
    const thread = p.success ? await store.visibleThread(user, p.data.id) : undefined;
    if (!thread || thread.ownerId !== user.id) return c.json({ error: 'not_found' }, 404);
    await store.deleteThread(thread.id);
    return c.json({ deleted: true });
  });

  // Live: every message of the thread once, then each message again whenever it changes (by version).
  app.get('/admin/api/playground/threads/:id/events', async (c) => {
    const user = userOf(c);
    const p = idParam.safeParse(c.req.param());
    const thread = p.success ? await store.visibleThread(user, p.data.id) : undefined;
    if (!thread) return c.json({ error: 'not_found' }, 404);
    c.header('cache-control', 'no-store');
    return streamSSE(c, async (stream) => {
      const sent = new Map<string, number>();
      const until = Date.now() + streamMs;
      let first = true;
      let lastBeat = Date.now();
      while (!stream.aborted && !stream.closed && Date.now() < until) {
        if (!(await store.threadExists(thread.id))) {
          await stream.writeSSE({ event: 'gone', data: '{}' });
          break;
        }
        const changed = (await store.versions(thread.id, user.id)).filter((v) => sent.get(v.id) !== v.version).map((v) => v.id);
        if (changed.length) {
          for (const m of await dtos(thread.id, user.id, changed)) {
            await stream.writeSSE({ event: 'message', data: JSON.stringify(m) });
            sent.set(m.id, m.version);
          }
        }
        if (first) await stream.writeSSE({ event: 'ready', data: JSON.stringify({ messages: sent.size }) });
        else if (Date.now() - lastBeat > 15_000) {
          await stream.writeSSE({ event: 'ping', data: '{}' });
          lastBeat = Date.now();
        }
        first = false;
        await stream.sleep(pollMs);
      }
    }, async (e, stream) => {
      deps.log.warn('playground stream failed', { threadId: thread.id, error: String(e) });
      await stream.writeSSE({ event: 'error', data: '{}' }).catch(() => undefined);
    });
  });
}
