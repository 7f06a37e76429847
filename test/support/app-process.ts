// Runs a Rolecall entry point (app/*.ts) as a real child process, in its own process group so that it
// and anything it starts (e.g. the embedded redis-server) can be killed together. Every process started here is
// killed when the test process exits, so none outlives the test run.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../orchestrator/embedded-redis';
import { WAIT_MS } from './wait';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface AppProcess {
  proc: ChildProcess;
  pid: number;
  /** Everything the process wrote so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout+stderr; rejects on timeout or if the process exits first. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` to the process only (not its group). */
  signal(signal: NodeJS.Signals): void;
  /** SIGKILLs the whole process group and waits for the process to exit. Safe to call more than once. */
  killAll(): Promise<void>;
}

// Every started process until killAll(): its group may outlive it (e.g. an orphaned redis-server).
const live = new Set<AppProcess>();
process.once('exit', () => {
  for (const app of live) killGroup(app.pid, 'SIGKILL');
});

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try { process.kill(-pid, signal); } catch { /* already gone */ }
}

/** `entry` is relative to the repo root, e.g. 'app/worker.ts'. `env` is the complete environment. With `compiled`,
 *  `entry` is a built JavaScript file (e.g. '<outDir>/worker.js', see scripts/build.ts), run by plain node in `cwd`.
 *  `nodeArgs` go to node before the entry (e.g. `--cpu-prof`, which NODE_OPTIONS does not allow). */
export function startApp(entry: string, env: Record<string, string | undefined>, opts: { compiled?: boolean; cwd?: string; nodeArgs?: string[] } = {}): AppProcess {
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), ...(opts.compiled ? ['--enable-source-maps', entry] : ['--import', 'tsx', entry])], {
    cwd: opts.cwd ?? REPO_ROOT,
    env: env as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // own process group: killAll() reaches grandchildren too
  });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  proc.stdout!.on('data', (d: Buffer) => { out += d.toString(); for (const l of listeners) l(); });
  proc.stderr!.on('data', (d: Buffer) => { err += d.toString(); for (const l of listeners) l(); });
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('exit', (code, signal) => {
      done = true;
      for (const l of listeners) l();
      resolve({ code, signal });
    });
  });
  const app: AppProcess = {
    proc,
    pid: proc.pid!,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForOutput: (pattern, timeoutMs = WAIT_MS) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = (out + '\n' + err).match(pattern);
          if (m) return finish(() => resolve(m));
          if (done) finish(() => reject(new Error(`process exited before printing ${pattern}\nstdout:\n${out}\nstderr:\n${err}`)));
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`timed out waiting for ${pattern}\nstdout:\n${out}\nstderr:\n${err}`))), timeoutMs);
        const finish = (f: () => void) => { clearTimeout(timer); listeners.delete(check); f(); };
        listeners.add(check);
        check();
      }),
    signal: (signal) => { if (!done) proc.kill(signal); },
    killAll: async () => {
      killGroup(proc.pid!, 'SIGKILL'); // also reaches children left behind after the process itself exited
      live.delete(app);
      await exited;
    },
  };
  live.add(app);
  return app;
}

/** Kills every process started with startApp that is still running (for afterEach). */
export async function killAllApps(): Promise<void> {
  await Promise.all([...live].map((a) => a.killAll()));
}

/** The minimal inherited environment a child process needs to run node/tsx. */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[k]) env[k] = process.env[k]!;
  return env;
}

export { freePort };

/** True if something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}
