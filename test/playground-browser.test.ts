// The playground in a real headless Chromium (Debian's chromium, driven by playwright-core), on the offline demo
// model: a whole workflow from the console's chat — the request, the plan, the personas' posts arriving live (SSE),
// one gate approved, changes requested with feedback on another, a reply in the thread, the revised gate approved,
// the workflow completed. With SCREENSHOTS=1 (`npm run screenshots`) it saves docs/screenshots/playground*.png.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { type ConsoleInBrowser, useConsoleInBrowser } from './support/browser';
import { WAIT_MS, waitFor, type Harness } from './support/harness';

let c: ConsoleInBrowser;
let h: Harness;
let page: Page;

useConsoleInBrowser({
  env: { ADMIN_SESSION_SECRET: 'playground-browser-session-secret-0123456789', OPENAI_API_KEY: '', OPENAI_BASE_URL: '' },
  timeoutMs: 2 * WAIT_MS, // a workflow's steps: generous, a slow machine is not a failure
}, (started) => {
  c = started;
  ({ h, page } = c);
});

const shot = (name: string) => c.shot(name);
const approvals = () => h.prisma.approval.findMany({ where: { workflow: { platform: 'web' } }, orderBy: { createdAt: 'asc' } });
/** The open gate's button for the n-th approval (1-based): the approval exists and its message shows in the page. */
async function gateButton(n: number, action: 'approve' | 'request_changes') {
  const approval = await waitFor(async () => (await approvals())[n - 1], `approval ${n}`, 2 * WAIT_MS);
  const button = page.locator(`.pg-msg button[data-action="${action}"]`);
  await button.first().waitFor();
  expect(approval.status).toBe('pending');
  return button.first();
}

describe('the playground in Chromium', () => {
  it('runs a whole workflow with gates and a thread reply', async () => {
    await c.signIn({ from: '/admin/playground', to: '/admin/playground' });
    expect(await page.textContent('#demo-label')).toContain('Offline demo model');

    await page.click('.pg-example >> nth=0');
    expect(await page.inputValue('#pg-text')).toBe('We need a login page with SSO for our customer portal');
    await page.click('#pg-submit');
    await page.waitForURL(/\/admin\/playground\?thread=/);
    await page.waitForSelector('body[data-thread-ready="true"]');
    await page.locator('.pg-msg', { hasText: 'Plan: Full feature delivery' }).waitFor();

    // gate 1: approve the Business Analyst's output
    await page.locator('.pg-msg', { hasText: 'Business Analyst' }).first().waitFor();
    await (await gateButton(1, 'approve')).click();
    await page.locator('.pg-msg', { hasText: 'Approved by @owner@example.com' }).waitFor();

    // a reply in the thread while the workflow runs
    await page.fill('#pg-text', 'Please keep the first version web only.');
    await page.click('#pg-submit');
    await page.locator('.pg-msg.person', { hasText: 'Please keep the first version web only.' }).waitFor();
    await waitFor(() => h.prisma.threadReply.findFirst({ where: { text: 'Please keep the first version web only.' } }), 'the thread reply');

    // gate 2: request changes on the Technical Architect's output, with feedback
    await (await gateButton(2, 'request_changes')).click();
    await page.fill('.pg-feedback textarea', 'Add an audit log of every sign-in.');
    await shot('playground-gate');
    await page.click('.pg-feedback button[type=submit]');
    await page.locator('.pg-msg', { hasText: 'Changes requested by @owner@example.com' }).waitFor();
    expect((await approvals())[1]).toMatchObject({ status: 'changes_requested', feedback: 'Add an audit log of every sign-in.' });

    // gate 3: the revised design, approved; the workflow runs to the end
    await (await gateButton(3, 'approve')).click();
    const wf = await waitFor(async () => {
      const w = await h.prisma.workflow.findFirst({ where: { platform: 'web' } });
      return w?.status === 'completed' ? w : undefined;
    }, 'the completed workflow', 3 * WAIT_MS);
    expect(wf.requestText).toBe('We need a login page with SSO for our customer portal');
    await page.locator('.pg-msg button[data-action="satisfaction_up"]').waitFor();
    for (const persona of ['Business Analyst', 'Technical Architect', 'Developer', 'QA Tester', 'Project Manager']) {
      expect(await page.locator('.pg-msg .pg-name', { hasText: persona }).count()).toBeGreaterThan(0);
    }
    // nothing a model wrote became markup: the thread holds only the elements the page builds
    expect(await page.locator('.pg-text script, .pg-text img, .pg-text iframe').count()).toBe(0);
    await shot('playground');

    // a reload shows the same thread (kept in PostgreSQL): every message the owner may see
    const count = await page.locator('.pg-msg').count();
    await page.reload();
    await page.waitForSelector('body[data-thread-ready="true"]');
    const owner = await h.prisma.adminUser.findUniqueOrThrow({ where: { email: 'owner@example.com' } });
    const stored = () => h.prisma.webMessage.count({ where: { thread: { ownerId: owner.id }, OR: [{ onlyFor: null }, { onlyFor: owner.id }] } });
    await waitFor(async () => (await page.locator('.pg-msg').count()) === (await stored()) || undefined, 'the reloaded thread');
    expect(await page.locator('.pg-msg').count()).toBeGreaterThanOrEqual(count);
  });
});
