// The admin console in a real headless Chromium (Debian's chromium, driven by playwright-core): sign in, the analytics
// page with data from a real workflow run, an RBAC change. With SCREENSHOTS=1 (`npm run screenshots`) it also saves
// screenshots of the main pages to docs/screenshots/; an ordinary test run leaves those tracked files alone.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { runWorkflow } from './support/admin-flow';
import { PASSWORD, type ConsoleInBrowser, useConsoleInBrowser } from './support/browser';
import type { Harness } from './support/harness';

let c: ConsoleInBrowser;
let h: Harness;
let page: Page;
let workflowId: string;

useConsoleInBrowser({ env: { ADMIN_SESSION_SECRET: 'browser-test-session-secret-0123456789' } }, async (started) => {
  c = started;
  ({ h, page } = c);
  ({ workflowId } = await runWorkflow(h, 'we need a login page with SSO for our customer portal'));
  await runWorkflow(h, 'add CSV export to the billing report', 'U_BOB');
});

const shot = (name: string) => c.shot(name);

describe('the admin console in Chromium', () => {
  it('signs in', async () => {
    await page.goto(`${h.url}/admin`);
    expect(new URL(page.url()).pathname).toBe('/admin/login');
    await page.fill('#email', 'owner@example.com');
    await page.fill('#password', 'not the password');
    await page.click('button[type=submit]');
    await expect.poll(() => page.textContent('[role=alert]')).toContain('Wrong email or password.');
    await shot('login');
    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(`${h.url}/admin`);
    expect(await page.textContent('header')).toContain('owner@example.com (owner)');
    const cookie = (await page.context().cookies()).find((c) => c.name === 'rolecall_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/admin' });
  });

  it('shows the analytics with charts drawn from the JSON API', async () => {
    await page.goto(`${h.url}/admin?days=7`);
    await page.waitForSelector('body[data-charts-ready="true"]');
    // every chart is drawn, or (nothing to draw, e.g. no constraint violation) replaced by a sentence
    expect(await page.locator('canvas[data-drawn]').count()).toBe(9);
    expect(await page.locator('canvas[data-drawn="true"][data-chart^="/admin/api/analytics/cost-role"]').count()).toBe(1);
    expect(await page.textContent('[data-kpi="workflows"] b')).toBe('2');
    expect(await page.textContent('[data-kpi="completion-rate"] b')).toBe('100%');
    expect(await page.textContent('[data-kpi="satisfaction"] b')).toBe('2 up / 0 down');
    // the cost chart holds one bar per role, with the cost of the real runs
    const bars = await page.evaluate(() => {
      const canvas = document.querySelector('canvas[data-chart^="/admin/api/analytics/cost-role"]') as HTMLCanvasElement;
      const chart = (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): { data: { labels: string[]; datasets: { data: number[] }[] } } } }).Chart.getChart(canvas);
      return { labels: chart.data.labels, values: chart.data.datasets[0]!.data };
    });
    expect(bars.labels).toContain('business_analyst');
    expect(bars.values.every((v) => v > 0)).toBe(true);
    await shot('analytics');
  });

  it('shows a workflow with its steps, posts and LLM calls', async () => {
    await page.goto(`${h.url}/admin/workflows`);
    await shot('workflows');
    await page.click(`a[href="/admin/workflows/${workflowId}"]`);
    await page.waitForSelector('#llm-calls');
    expect(await page.textContent('#wf-status')).toBe('completed');
    expect(await page.locator('#llm-calls tbody tr').count()).toBeGreaterThanOrEqual(5);
    await shot('workflow-detail');
  });

  it('shows cost and acceptance per role, template and model tier, and each role\'s tiers', async () => {
    await page.click('nav a[href="/admin/cost"]');
    await page.waitForSelector('#tier-stats');
    expect(await page.textContent('h1')).toBe('Cost and model tiers');
    // the workflows above ran through the tier router: every step's run is a row of some role, template and tier
    expect(await page.locator('#tier-stats tbody tr').count()).toBeGreaterThanOrEqual(3);
    expect(await page.textContent('#tier-stats')).toContain('qa_tester');
    expect(await page.textContent('#role-tiers')).toContain('local: ollama/llama3.1:8b');
    await shot('cost');
  });

  it('changes an RBAC setting: maps a Slack user and sets a gate policy', async () => {
    await page.goto(`${h.url}/admin/rbac`);
    await page.fill('#cu-user', 'U_CAROL');
    await page.selectOption('#cu-role', 'approver');
    await page.click('#add-chat-user button[type=submit]');
    await page.waitForSelector('.notice.ok');
    expect(await page.textContent('#chat-users')).toContain('U_CAROL');
    const gate = page.locator('form[data-gate="business_analyst"]');
    await gate.locator('select').selectOption('admin');
    await gate.locator('button').click();
    await page.waitForSelector('.notice.ok');
    expect(await h.prisma.chatUserRole.findUnique({ where: { platform_userId: { platform: 'slack', userId: 'U_CAROL' } } })).toMatchObject({ role: 'approver' });
    expect(await h.prisma.gatePolicy.findUnique({ where: { roleId: 'business_analyst' } })).toMatchObject({ minRole: 'admin' });
    expect(await page.locator('form[data-gate="business_analyst"] select').inputValue()).toBe('admin');
    await shot('access');
    const audit = await h.prisma.auditLog.findMany({ where: { actor: 'console:owner@example.com', action: { startsWith: 'rbac.' } } });
    expect(audit.map((a) => a.action).sort()).toEqual(['rbac.chat_user', 'rbac.gate_policy']);
  });

  it('shows roles, a role editor with inline validation, and the audit log', async () => {
    await page.goto(`${h.url}/admin/roles`);
    await shot('roles');
    await page.click('a[href="/admin/roles/qa_tester"]');
    const yaml = await page.inputValue('#yaml');
    await page.fill('#yaml', yaml.replace(/role_id: .*/, 'role_id: QA!'));
    await page.click('button:has-text("Validate and save")');
    await expect.poll(() => page.textContent('[role=alert]')).toContain('role_id');
    await shot('role-editor');
    await page.goto(`${h.url}/admin/audit`);
    expect(await page.textContent('#audit')).toContain('gate.approved');
    await shot('audit');
  });
});
