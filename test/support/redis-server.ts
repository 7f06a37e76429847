// A redis-server of a test's own, on a free port, with its data in a temp folder (AOF on, as in production), so a
// test may stop and restart it. Never the machine's shared Redis. Stopped (and its folder removed) by `close`.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, portOpen } from './app-process';
import { waitFor } from './wait';

export interface OwnRedis {
  url: string;
  port: number;
  /** Stops it the way an operator would (SIGTERM: AOF is flushed), or as a crash would (SIGKILL). */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startOwnRedis(bin = process.env.REDIS_SERVER_BIN ?? 'redis-server'): Promise<OwnRedis> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rolecall-redis-'));
  const port = await freePort();
  let proc: ChildProcess | undefined;
  const start = async () => {
    proc = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
    await waitFor(() => portOpen(port), `redis-server on port ${port}`, 30_000);
  };
  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') => {
    const p = proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill(signal);
    await exited;
    proc = undefined;
  };
  await start();
  process.once('exit', () => proc?.kill('SIGKILL'));
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop,
    start,
    close: async () => {
      await stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
