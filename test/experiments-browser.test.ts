// The Experiments console pages in a real headless Chromium (as test/admin-browser.test.ts): import the repository's
// example experiment as a draft, start it, run a real workflow that it assigns, read the results ("not enough data
// yet", the assignment) and the insights, stop it rolling the winning template variation out, and write a definition
// in the editor (a bad one refused with its reason). With SCREENSHOTS=1 (`npm run screenshots`)
// it saves docs/screenshots/experiment*.png.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertAdminUser } from '../web-admin/auth/bootstrap';
import { rolesCopy, runWorkflow } from './support/admin-flow';
import { startHarness, WAIT_MS, type Harness } from './support/harness';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = 'docs/screenshots';
const SAVE_SHOTS = process.env.SCREENSHOTS === '1';
const PASSWORD = 'browser test password';

let h: Harness;
let browser: BrowserContext;
let page: Page;
let profile: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does this)`);
  h = await startHarness({ env: { ADMIN_SESSION_SECRET: 'browser-test-session-secret-0123456789', ROLES_DIR: rolesCopy() } });
  await upsertAdminUser(h.prisma, 'owner@example.com', PASSWORD, 'owner');
  profile = mkdtempSync(path.join(tmpdir(), 'rolecall-chromium-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, timeout: WAIT_MS, viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  browser.setDefaultTimeout(WAIT_MS);
  page = await browser.newPage();
  if (SAVE_SHOTS) mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await h?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

const shot = async (name: string) => {
  if (SAVE_SHOTS) await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
};

describe('experiments in Chromium', () => {
  it('imports, starts, assigns, analyses and stops an experiment', async () => {
    await page.goto(`${h.url}/admin/login`);
    await page.fill('#email', 'owner@example.com');
    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(`${h.url}/admin`);

    await page.click('nav a[href="/admin/experiments"]');
    await page.waitForSelector('#experiment-files');
    await page.click('#experiment-files button:has-text("Import as draft")');
    await page.waitForSelector('#start');
    expect(await page.textContent('#status')).toBe('draft');
    await page.click('#start');
    await page.waitForSelector('#stop');
    expect(await page.textContent('#status')).toBe('running');
    expect(await page.textContent('.notice.ok')).toMatch(/per arm planned/);

    const { workflowId } = await runWorkflow(h, 'write user stories for a loyalty points program');
    const assigned = await h.prisma.experimentAssignment.findFirstOrThrow({ where: { workflowId } });
    await page.goto(`${h.url}/admin/experiments/requirements-gate-off`);
    expect(await page.textContent('#not-enough')).toContain('Not enough data yet');
    expect(await page.textContent('#assignments')).toContain(workflowId.slice(0, 8));
    expect(await page.textContent(`table[data-metric="completion"] tr[data-arm="${assigned.arm}"]`)).toContain('1');
    await shot('experiment');

    await page.goto(`${h.url}/admin/experiments`);
    expect(await page.textContent('#experiments')).toContain('requirements-gate-off');
    await shot('experiments');
    await page.click('a[href="/admin/experiments/insights"]');
    await page.waitForSelector('#hours');
    expect(await page.locator('#hours tbody tr').count()).toBeGreaterThanOrEqual(1);
    await shot('experiment-insights');

    // Stop, rolling the arm without the gate out: the template is edited through the audited template path
    await page.goto(`${h.url}/admin/experiments/requirements-gate-off`);
    await page.selectOption('#stop-form select', 'no_gate');
    await page.click('#stop');
    await page.waitForSelector('.notice.ok');
    expect(await page.textContent('#status')).toBe('stopped');
    expect(await page.textContent('.notice.ok')).toContain('template requirements_only updated');
    expect((await h.prisma.templateDefinition.findUniqueOrThrow({ where: { templateId: 'requirements_only' } })).yaml).toMatch(/gate: false/);
    expect(await h.prisma.auditLog.count({ where: { action: 'config.template', target: 'requirements_only', actor: 'console:owner@example.com' } })).toBe(1);
  });

  it('the editor refuses a bad definition with its reason and saves a good one as a draft', async () => {
    await page.goto(`${h.url}/admin/experiments`);
    await page.fill('#yaml', 'id: persona-test\nname: Persona test\narms: []\nprimary_metric: completion\n');
    await page.click('button:has-text("Validate and save draft")');
    await page.waitForSelector('.notice.error');
    expect(await page.textContent('.notice.error')).toMatch(/arms/);
    await page.fill('#yaml', 'id: persona-test\nname: Persona test\narms:\n  - { id: control }\n  - { id: named, role: { id: business_analyst, display_name: Requirements Coach, icon_emoji: ":books:" } }\nprimary_metric: satisfaction\n');
    await page.click('button:has-text("Validate and save draft")');
    await page.waitForSelector('#start');
    expect(await page.textContent('#status')).toBe('draft');
    expect(await page.textContent('#definition')).toContain('Requirements Coach');
  });
});
