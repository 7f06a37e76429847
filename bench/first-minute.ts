// `npm run bench:first-minute [-- --timeout S]`: what a new user meets, measured. Runs `npm start` exactly as the
// README's quick start says (it builds, then runs node dist/all.js on embedded defaults: PGlite, an embedded
// redis-server and the offline demo model, nothing configured) in an empty temp DATA_DIR on a free port, then does
// what the person would, over real HTTP: waits for /ready, takes the one-time admin password from the start-up log,
// signs in, chooses a new password (the console asks for one first), opens the playground, sends the first example
// request, and watches the thread over the playground's own live stream (Server-Sent Events, as the page does) until
// the plan, a role's output and a gate arrive. Prints a Markdown table and the machine (CPUs, load average).
// Invariant: every process it starts (npm, node, redis-server) is in one process group that it stops (SIGTERM, then
// SIGKILL) before it returns, and the temp DATA_DIR is removed; any step that fails or times out is an error (exit 1).
// No human think time is counted: the figures are the product's share of "a running workflow within a minute".
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { freePort } from '../orchestrator/embedded-redis';
import { cookieHeader, keepCookies } from '../test/support/cookies';

const ROOT = path.resolve(import.meta.dirname, '..');
/** The first example the playground offers (bot/web/routes.tsx EXAMPLES). */
const REQUEST = 'We need a login page with SSO for our customer portal';
const NEW_PASSWORD = 'first minute bench password 42';

export class FirstMinuteError extends Error {
  constructor(message: string, readonly log: string) {
    super(message);
    this.name = 'FirstMinuteError';
  }
}

export interface FirstMinuteResult {
  /** ms from spawning `npm start` (build included): to the app's first log line (the build is done) */
  startToFirstLog: number;
  startToListening: number;
  startToReady: number;
  /** ms from /ready answering 200 */
  readyToSignedIn: number;
  readyToSent: number;
  readyToPlan: number;
  readyToRoleOutput: number;
  readyToGate: number;
  node: string;
  loadBefore: number[];
  loadAfter: number[];
}

const message = z.object({
  person: z.boolean(),
  author: z.object({ name: z.string() }),
  text: z.string(),
  context: z.string().optional(),
  actions: z.array(z.object({ id: z.string() })),
});

/** A minimal browser: cookies, and the console's Origin on posts. */
function browser(base: string) {
  const cookies = new Map<string, string>();
  const request = async (method: string, p: string, init: { form?: Record<string, string>; headers?: Record<string, string>; signal?: AbortSignal } = {}) => {
    const headers: Record<string, string> = { ...init.headers };
    if (cookies.size) headers.cookie = cookieHeader(cookies)!;
    if (init.form) Object.assign(headers, { 'content-type': 'application/x-www-form-urlencoded', origin: base });
    const res = await fetch(base + p, { method, headers, body: init.form ? new URLSearchParams(init.form) : undefined, redirect: 'manual', signal: init.signal });
    keepCookies(cookies, res);
    return res;
  };
  const csrfOf = async (p: string) => {
    const html = await (await request('GET', p)).text();
    return /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
  };
  return { request, csrfOf };
}

/** One run: a fresh DATA_DIR, `npm start`, the first workflow in the playground. Throws FirstMinuteError. */
export async function firstMinute(opts: { timeoutMs?: number; progress?: (line: string) => void } = {}): Promise<FirstMinuteResult> {
  const timeoutMs = opts.timeoutMs ?? 300_000;
  const progress = opts.progress ?? (() => undefined);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'rolecall-first-minute-'));
  const port = await freePort();
  const env: Record<string, string> = { DATA_DIR: dataDir, PORT: String(port) };
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[k]) env[k] = process.env[k]!;
  const node = execFileSync('node', ['--version'], { env, encoding: 'utf8' }).trim();
  const loadBefore = os.loadavg();
  const base = `http://127.0.0.1:${port}`;

  const t0 = performance.now();
  const child = spawn('npm', ['start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let log = '';
  let listeningAt: number | undefined;
  let firstLogAt: number | undefined;
  const onData = (d: Buffer) => {
    log += d.toString();
    if (firstLogAt === undefined && /^\{"level"/m.test(log)) firstLogAt = performance.now();
    if (listeningAt === undefined && /HTTP: listening on /.test(log)) listeningAt = performance.now();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const fail = (what: string): never => { throw new FirstMinuteError(what, log); };
  const deadline = t0 + timeoutMs;
  const left = () => deadline - performance.now();
  const waitUntil = async <T>(what: string, probe: () => Promise<T | undefined> | T | undefined, everyMs = 50): Promise<T> => {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) fail(`npm start exited (${child.exitCode ?? child.signalCode}) while waiting for ${what}`);
      const v = await probe();
      if (v !== undefined) return v;
      if (left() <= 0) fail(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  };

  try {
    await waitUntil('/ready to answer 200', () => fetch(`${base}/ready`).then((r) => (r.status === 200 ? true : undefined), () => undefined));
    const ready = performance.now();
    progress(`ready after ${((ready - t0) / 1000).toFixed(1)} s`);
    const [, email, oneTime] = await waitUntil('the one-time admin password in the log', () => /created owner (\S+) with the one-time password (\S+)/.exec(log) ?? undefined);

    // sign in with the printed password: the console asks for a new one first
    const b = browser(base);
    const signIn = await b.request('POST', '/admin/login', { form: { email: email!, password: oneTime!, _csrf: await b.csrfOf('/admin/login') } });
    if (signIn.status !== 303 || signIn.headers.get('location') !== '/admin/password') fail(`sign-in answered ${signIn.status} → ${signIn.headers.get('location')}`);
    const changed = await b.request('POST', '/admin/password', { form: { current: oneTime!, password: NEW_PASSWORD, confirm: NEW_PASSWORD, _csrf: await b.csrfOf('/admin/password') } });
    if (changed.status !== 303) fail(`choosing a new password answered ${changed.status}`);
    const signedIn = performance.now();

    // the playground, and the first example request
    const page = await b.request('GET', '/admin/playground');
    const html = await page.text();
    const csrf = /data-csrf="([^"]+)"/.exec(html)?.[1];
    if (page.status !== 200 || !csrf || !html.includes('id="pg-composer"')) fail(`the playground answered ${page.status} without its composer`);
    const sent = await b.request('POST', '/admin/api/playground/messages', { form: { text: REQUEST }, headers: { 'x-csrf-token': csrf! } });
    if (sent.status !== 201) fail(`sending the request answered ${sent.status}: ${await sent.text()}`);
    const { threadId } = z.object({ threadId: z.string().uuid() }).parse(await sent.json());
    const sentAt = performance.now();
    progress(`request sent ${((sentAt - ready) / 1000).toFixed(1)} s after ready`);

    // watch the thread as the page does: its event stream (reconnecting when the server ends one)
    const seen: { plan?: number; output?: number; gate?: number } = {};
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), Math.max(0, left()));
    try {
      while (seen.plan === undefined || seen.output === undefined || seen.gate === undefined) {
        if (left() <= 0) fail(`timed out after ${timeoutMs / 1000} s: plan ${seen.plan !== undefined}, role output ${seen.output !== undefined}, gate ${seen.gate !== undefined}`);
        const res = await b.request('GET', `/admin/api/playground/threads/${threadId}/events`, { signal: abort.signal }).catch(() => fail('the thread stream failed'));
        if (res.status !== 200 || !res.body) fail(`the thread stream answered ${res.status}`);
        let buf = '';
        const decoder = new TextDecoder();
        try {
          for await (const chunk of res.body!) {
            buf += decoder.decode(chunk as Uint8Array, { stream: true });
            let end: number;
            while ((end = buf.indexOf('\n\n')) >= 0) {
              const frame = buf.slice(0, end);
              buf = buf.slice(end + 2);
              if (!/^event: message$/m.test(frame)) continue;
              const m = message.safeParse(JSON.parse(frame.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n')));
              if (!m.success || m.data.person) continue;
              const now = performance.now();
              if (seen.plan === undefined && m.data.author.name === 'Rolecall' && /plan/i.test(m.data.text)) { seen.plan = now; progress(`plan after ${((now - ready) / 1000).toFixed(1)} s`); }
              if (seen.output === undefined && m.data.author.name !== 'Rolecall' && m.data.context?.includes('Offline demo model')) { seen.output = now; progress(`${m.data.author.name}'s output after ${((now - ready) / 1000).toFixed(1)} s`); }
              if (seen.gate === undefined && m.data.actions.some((a) => a.id === 'approve')) { seen.gate = now; progress(`gate after ${((now - ready) / 1000).toFixed(1)} s`); }
            }
            if (seen.plan !== undefined && seen.output !== undefined && seen.gate !== undefined) break;
          }
        } catch (e) {
          if (abort.signal.aborted) fail(`timed out after ${timeoutMs / 1000} s: plan ${seen.plan !== undefined}, role output ${seen.output !== undefined}, gate ${seen.gate !== undefined}`);
          throw e;
        }
      }
    } finally {
      clearTimeout(timer);
      abort.abort();
    }
    return {
      startToFirstLog: (firstLogAt ?? ready) - t0, startToListening: (listeningAt ?? ready) - t0, startToReady: ready - t0,
      readyToSignedIn: signedIn - ready, readyToSent: sentAt - ready,
      readyToPlan: seen.plan! - ready, readyToRoleOutput: seen.output! - ready, readyToGate: seen.gate! - ready,
      node, loadBefore, loadAfter: os.loadavg(),
    };
  } finally {
    try { process.kill(-child.pid!, 'SIGTERM'); } catch { /* already gone */ }
    const stopped = await Promise.race([exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 20_000).unref())]);
    if (!stopped) try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ }
    await exited;
    try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* the group is gone: nothing left behind */ }
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const loads = (l: number[]) => l.map((x) => x.toFixed(2)).join(' / ');

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { timeout: { type: 'string', default: '300' } } });
  const timeout = Number(values.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0) throw new Error('--timeout takes seconds, e.g. --timeout 300');
  const r = await firstMinute({ timeoutMs: timeout * 1000, progress: (l) => process.stderr.write(`${l}\n`) });
  const cpu = os.cpus();
  const rows: [string, string][] = [
    ['`npm start` → the app\'s first log line (`npm run build` done, node dist/all.js loaded)', seconds(r.startToFirstLog)],
    ['`npm start` → "HTTP: listening" in the log', seconds(r.startToListening)],
    ['(a) `npm start` → `/ready` answers 200 (first start: creates and migrates PGlite)', `**${seconds(r.startToReady)}**`],
    ['ready → signed in with the printed password and a new one chosen', seconds(r.readyToSignedIn)],
    ['ready → playground opened, request sent', seconds(r.readyToSent)],
    ['(b) ready → the plan visible in the playground', `**${seconds(r.readyToPlan)}**`],
    ['(c) ready → first role output visible', `**${seconds(r.readyToRoleOutput)}**`],
    ['(c) ready → first approval gate visible', `**${seconds(r.readyToGate)}**`],
    ['`npm start` → first gate (the whole first minute, no human think time)', seconds(r.startToReady + r.readyToGate)],
  ];
  process.stdout.write(`First minute of a new user (one run, \`npm run bench:first-minute\`)\n\n| step | time |\n| --- | --- |\n${rows.map(([a, b]) => `| ${a} | ${b} |`).join('\n')}\n\n`
    + `Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, Node ${r.node} (npm start), `
    + `load average ${loads(r.loadBefore)} before and ${loads(r.loadAfter)} after (1 / 5 / 15 min).\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    process.stderr.write(`first-minute failed: ${e instanceof Error ? e.message : String(e)}\n`);
    if (e instanceof FirstMinuteError) process.stderr.write(`--- npm start output (last 4000 characters) ---\n${e.log.slice(-4000)}\n`);
    process.exit(1);
  });
}
