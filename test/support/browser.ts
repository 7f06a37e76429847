// The admin console in a real headless Chromium for the browser tests: Debian's chromium (installed by .ci/prereqs)
// driven by playwright-core, with a fresh empty profile, against a harness whose console has one owner to sign in as.
// Invariant: whatever startConsoleInBrowser brought up is taken down by close(), and by itself when a later part fails.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { upsertAdminUser } from '../../web-admin/auth/bootstrap';
import { rolesCopy } from './admin-flow';
import { startHarness, WAIT_MS, type Harness } from './harness';

export const CHROMIUM = '/usr/bin/chromium';
/** The console owner's password in every browser test. */
export const PASSWORD = 'browser test password';
const SHOTS = 'docs/screenshots';
/** `npm run screenshots` sets it: the tests then save their screenshots to docs/screenshots/ (tracked files). */
const SAVE_SHOTS = process.env.SCREENSHOTS === '1';

export interface ConsoleInBrowser {
  h: Harness;
  browser: BrowserContext;
  page: Page;
  /** Signs the owner in on the login form reached from `from`, and waits for the console to land on `to`. */
  signIn(opts?: { from?: string; to?: string }): Promise<void>;
  /** Saves a full-page screenshot docs/screenshots/<name>.png, only with SCREENSHOTS=1. */
  shot(name: string): Promise<void>;
  close(): Promise<void>;
}

export async function startConsoleInBrowser(opts: {
  /** The harness's environment on top of a copy of roles/ (ROLES_DIR); must set ADMIN_SESSION_SECRET. */
  env: Record<string, string>;
  email?: string;
  viewport?: { width: number; height: number };
  /** How long waits for pages and elements may take: generous, a slow machine is not a failure. */
  timeoutMs?: number;
}): Promise<ConsoleInBrowser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does this)`);
  const email = opts.email ?? 'owner@example.com';
  const h = await startHarness({ env: { ROLES_DIR: rolesCopy(), ...opts.env } });
  let profile: string | undefined;
  let browser: BrowserContext | undefined;
  const close = async () => {
    await browser?.close();
    await h.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  };
  try {
    await upsertAdminUser(h.prisma, email, PASSWORD, 'owner');
    profile = mkdtempSync(path.join(tmpdir(), 'rolecall-chromium-'));
    // a new empty profile (--user-data-dir): playwright passes it for a persistent context
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      timeout: WAIT_MS,
      viewport: opts.viewport ?? { width: 1280, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    browser.setDefaultTimeout(opts.timeoutMs ?? WAIT_MS);
    const page = await browser.newPage();
    if (SAVE_SHOTS) mkdirSync(SHOTS, { recursive: true });
    return {
      h, browser, page, close,
      async signIn({ from = '/admin/login', to = '/admin' } = {}) {
        await page.goto(`${h.url}${from}`);
        await page.fill('#email', email);
        await page.fill('#password', PASSWORD);
        await page.click('button[type=submit]');
        await page.waitForURL(`${h.url}${to}`);
      },
      async shot(name) {
        if (SAVE_SHOTS) await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
      },
    };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}

/** A test file's console in Chromium: started once before its tests (then handed to `set`, which may also prepare
 *  data through it) and closed after them. */
export function useConsoleInBrowser(opts: Parameters<typeof startConsoleInBrowser>[0], set: (c: ConsoleInBrowser) => void | Promise<void>): void {
  let current: ConsoleInBrowser | undefined;
  beforeAll(async () => {
    current = await startConsoleInBrowser(opts);
    await set(current);
  });
  afterAll(async () => { await current?.close(); });
}
