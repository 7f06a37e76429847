// A PostgreSQL cluster of a test's own: initdb into a temp folder, started with pg_ctl on a free port, so a test may
// stop and restart it. Never the machine's shared PostgreSQL. The server refuses to run as root, so when the tests
// run as root every command runs as the `postgres` user (runuser). Removed by `close`.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './app-process';

export interface OwnPostgres {
  /** postgresql://postgres@127.0.0.1:<port>/postgres */
  adminUrl: string;
  port: number;
  /** A fresh database's URL. */
  createDatabase(name: string): Promise<string>;
  /** pg_ctl stop -m fast (connections are closed at once) or immediate (as a crash). */
  stop(mode?: 'fast' | 'immediate'): void;
  start(): void;
  close(): void;
}

/** The newest installed PostgreSQL's bin folder (Debian: /usr/lib/postgresql/<version>/bin). */
export function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  const bin = versions.map((v) => path.join(root, v, 'bin')).find((b) => existsSync(path.join(b, 'initdb')));
  if (!bin) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (apt-get install postgresql)');
  return bin;
}

/** `settings`: extra server settings (`name=value`), after the defaults (fsync=off, max_connections=200), so they win. */
export async function startOwnPostgres(settings: string[] = []): Promise<OwnPostgres> {
  const bin = postgresBin();
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rolecall-pg-'));
  const data = path.join(dir, 'data');
  const port = await freePort();
  if (asRoot) {
    chmodSync(dir, 0o755);
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  const run = (tool: string, args: string[]) => {
    const cmd = asRoot ? 'runuser' : path.join(bin, tool);
    const full = asRoot ? ['-u', 'postgres', '--', path.join(bin, tool), ...args] : args;
    return execFileSync(cmd, full, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 }).toString();
  };
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  const start = () => void run('pg_ctl', ['-D', data, '-l', path.join(dir, 'log'), '-w', '-t', '60', '-o', `-p ${port} -k ${dir} -h 127.0.0.1 -c fsync=off -c max_connections=200${settings.map((x) => ` -c ${x}`).join('')}`, 'start']);
  const stop = (mode: 'fast' | 'immediate' = 'fast') => void run('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
  start();
  const adminUrl = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  process.once('exit', () => { try { stop('immediate'); } catch { /* already stopped */ } });
  return {
    adminUrl,
    port,
    async createDatabase(name) {
      const pg = (await import('pg')).default;
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE "${name}"`);
      } finally {
        await c.end();
      }
      return `postgresql://postgres@127.0.0.1:${port}/${name}`;
    },
    stop,
    start,
    close: () => {
      try { stop('immediate'); } catch { /* already stopped */ }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
