// The Experiments console pages in a real headless Chromium (as test/admin-browser.test.ts): import the repository's
// example experiment as a draft, start it, run a real workflow that it assigns, read the results ("not enough data
// yet", the assignment) and the insights, stop it rolling the winning template variation out, and write a definition
// in the editor (a bad one refused with its reason). With SCREENSHOTS=1 (`npm run screenshots`)
// it saves docs/screenshots/experiment*.png.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { runWorkflow } from './support/admin-flow';
import { type ConsoleInBrowser, useConsoleInBrowser } from './support/browser';
import type { Harness } from './support/harness';

let c: ConsoleInBrowser;
let h: Harness;
let page: Page;

useConsoleInBrowser({ env: { ADMIN_SESSION_SECRET: 'browser-test-session-secret-0123456789' } }, (started) => {
  c = started;
  ({ h, page } = c);
});

const shot = (name: string) => c.shot(name);

describe('experiments in Chromium', () => {
  it('imports, starts, assigns, analyses and stops an experiment', async () => {
    await c.signIn();

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
