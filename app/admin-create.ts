// `npm run admin:create -- --email x [--role owner|admin|approver|viewer] [--password-stdin]`: creates a console user
// (or resets an existing one's password and role, ending its sessions). The password is asked for in a terminal, or
// read from standard input with --password-stdin; --password also works but is visible in `ps` and shell history.
// Applies pending migrations first, so it works on a fresh database. Refuses to touch an embedded PGlite database
// that a running server holds open (PGlite is single-process: what is written beside it is lost).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { upsertAdminUser } from '../web-admin/auth/bootstrap';
import { consoleEmail, newPassword } from '../web-admin/auth/email';
import { ConfigError, loadConfig } from './config';
import { openDatabase } from '../orchestrator/db';
import { RBAC_ROLES } from '../orchestrator/permissions';

const USAGE = `usage: npm run admin:create -- --email you@example.com [--role owner|admin|approver|viewer] [--password-stdin]
  The password (12+ characters) is asked for when run in a terminal, or read from standard input with
  --password-stdin, e.g.  printf '%s\\n' "$PASSWORD" | npm run admin:create -- --email you@example.com --password-stdin
  (--password '<password>' works too, but anyone who can list processes sees it, and it stays in shell history.)`;

const argsSchema = z.object({ email: consoleEmail, role: z.enum(RBAC_ROLES).default('owner') });

class UsageError extends Error {}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: { email: { type: 'string' }, password: { type: 'string' }, 'password-stdin': { type: 'boolean' }, role: { type: 'string' } },
    }));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const args = argsSchema.safeParse(values);
  if (!args.success) {
    process.stderr.write(`${USAGE}\n${args.error.issues.map((i) => `  --${i.path.join('.')}: ${i.message}`).join('\n')}\n`);
    return 2;
  }
  let password: string;
  try {
    password = await readPassword(values);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`${e.message}\n${USAGE}\n`);
    return 2;
  }
  let config;
  try {
    config = loadConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) { process.stderr.write(`${e.message}\n`); return 2; }
    throw e;
  }
  if (config.database.kind === 'pglite' && pgliteInUse(config.database.dir)) {
    process.stderr.write(
      `The embedded database in ${config.database.dir} is open in another process, most likely a running Rolecall server (npm start).\n` +
      'Embedded PGlite serves one process at a time: a user written now would be lost. Nothing was changed.\n' +
      '  - stop the server and run this again, or\n' +
      '  - create the user in the running console (/admin/rbac, as an admin or owner).\n' +
      'If no Rolecall process is running, the last one did not stop cleanly: start it once and stop it with Ctrl-C, then run this again.\n',
    );
    return 1;
  }
  const db = await openDatabase(config.database);
  try {
    await db.migrate();
    const result = await upsertAdminUser(db.prisma, args.data.email, password, args.data.role);
    process.stdout.write(`${result === 'created' ? 'Created' : 'Updated'} console user ${args.data.email} (${args.data.role}) in ${db.describe}\n`);
    return 0;
  } finally {
    await db.close();
  }
}

/** PostgreSQL (and so PGlite) keeps postmaster.pid in its data directory while it has it open and removes it on close. */
const pgliteInUse = (dir: string) => existsSync(path.join(dir, 'postmaster.pid'));

async function readPassword(values: { password?: string; 'password-stdin'?: boolean }): Promise<string> {
  let password: string;
  if (values.password !== undefined && values['password-stdin']) throw new UsageError('Give either --password or --password-stdin, not both.');
  if (values['password-stdin']) {
    password = await readStdin();
  } else if (values.password !== undefined) {
    process.stderr.write('warning: --password is visible to other users in `ps` and is kept in shell history; prefer the prompt or --password-stdin\n');
    password = values.password;
  } else if (process.stdin.isTTY) {
    password = await promptHidden('Password (12+ characters): ');
    if ((await promptHidden('Repeat it: ')) !== password) throw new UsageError('The two passwords differ.');
  } else {
    throw new UsageError('No password: run this in a terminal to be asked for it, or pipe it in with --password-stdin.');
  }
  const checked = newPassword.safeParse(password);
  if (!checked.success) throw new UsageError(`password: ${checked.error.issues.map((i) => i.message).join('; ')}`);
  return checked.data;
}

/** Standard input up to its end, one trailing newline removed; a single line of at most 4 KiB. */
async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) {
    text += chunk.toString();
    if (text.length > 4096) throw new UsageError('--password-stdin: standard input is longer than a password.');
  }
  text = text.replace(/\r?\n$/, '');
  if (/[\r\n]/.test(text)) throw new UsageError('--password-stdin: give the password on one line.');
  return text;
}

/** Asks on the terminal without echoing what is typed. */
function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (then: () => void) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      then();
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish(() => resolve(value));
        if (ch === '\u0003') return finish(() => reject(new UsageError('Cancelled.')));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

process.exit(await main());
