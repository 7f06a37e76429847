// With REDIS_URL unset, the app starts its own Redis from the machine's redis-server binary (AOF on, so queued
// steps survive a restart), on a free loopback port, with its data in DATA_DIR/redis.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { OperatorError } from '../agents/errors';

/** The redis-server binary to start is missing: the operator must install it or point at a Redis. */
class RedisBinaryMissingError extends OperatorError {}

export interface EmbeddedRedis {
  url: string;
  stop(): Promise<void>;
}

export async function startEmbeddedRedis(bin: string, dir: string): Promise<EmbeddedRedis> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--dir', path.resolve(dir), '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--maxmemory-policy', 'noeviction'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitReady(child, bin);
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

function waitReady(child: ChildProcess, bin: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`redis-server did not start within 10 s: ${out.slice(-500)}`)), 10_000);
    const fail = (e: Error) => { clearTimeout(timer); child.kill('SIGKILL'); reject(e); };
    child.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(e.code === 'ENOENT'
        ? new RedisBinaryMissingError(`REDIS_URL is not set and the Redis server binary "${bin}" was not found. Install Redis (e.g. apt-get install redis-server), set REDIS_SERVER_BIN to its path, or set REDIS_URL.`)
        : e);
    });
    const onExit = (code: number | null) => fail(new Error(`redis-server exited with code ${code}: ${out.slice(-500)}`));
    child.once('exit', onExit);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve();
      }
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  });
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
