// The whole admin console at a desktop width (1280 px) and a phone width (390 px) in a real headless Chromium (as
// test/admin-browser.test.ts): every page loads without the document scrolling sideways (wide tables scroll inside
// their wrapper), the header's navigation labels never overlap one another or leave the screen, and an empty console
// shows a sentence in place of each chart (nothing ran yet: $0, no axes drawn).
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { runWorkflow } from './support/admin-flow';
import { type ConsoleInBrowser, useConsoleInBrowser } from './support/browser';
import type { Harness } from './support/harness';

const WIDTHS = [{ width: 1280, height: 900 }, { width: 390, height: 844 }] as const;

let c: ConsoleInBrowser;
let h: Harness;
let page: Page;

useConsoleInBrowser({
  env: { ADMIN_SESSION_SECRET: 'layout-browser-session-secret-0123456789' },
  email: 'owner.with.a.rather.long.address@example.com',
  viewport: WIDTHS[0],
}, (started) => {
  c = started;
  ({ h, page } = c);
});

/** What the test measures on the page in view: the document's width against the window's, and the nav labels. */
const layout = () => page.evaluate(() => {
  const rects = [...document.querySelectorAll('header nav a')].map((a) => {
    const r = a.getBoundingClientRect();
    return { label: a.textContent ?? '', left: r.left, right: r.right, top: r.top, bottom: r.bottom };
  });
  const overlaps: string[] = [];
  for (let i = 0; i < rects.length; i++) {
    for (let j = i + 1; j < rects.length; j++) {
      const a = rects[i]!;
      const b = rects[j]!;
      if (a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5) overlaps.push(`${a.label} / ${b.label}`);
    }
  }
  return {
    scrollWidth: document.scrollingElement!.scrollWidth,
    innerWidth: window.innerWidth,
    navLabels: rects.length,
    overlaps,
    offscreen: rects.filter((r) => r.right > window.innerWidth + 0.5 || r.left < -0.5).map((r) => r.label),
  };
});

describe('the console at 1280 px and 390 px', () => {
  it('shows a sentence instead of empty axes for every chart while nothing has run ($0)', async () => {
    await c.signIn();
    await page.waitForSelector('body[data-charts-ready="true"]');
    expect(await page.locator('canvas[data-drawn="empty"]').count()).toBe(9);
    expect(await page.locator('canvas[data-drawn="true"]').count()).toBe(0);
    const notes = await page.locator('.chart-empty').allTextContents();
    expect(notes).toHaveLength(9);
    expect(notes.filter((t) => t.startsWith('No spend yet ($0)'))).toHaveLength(3);
    expect(await page.textContent('[data-empty="analytics"]')).toContain('Playground');
    await page.goto(`${h.url}/admin/workflows`);
    expect(await page.textContent('[data-empty="workflows"]')).toMatch(/No workflows yet — try one in the Playground/);
    await page.click('[data-empty="workflows"] a[href="/admin/playground"]');
    await page.waitForURL(`${h.url}/admin/playground`);
  });

  it('loads every page without sideways scrolling or overlapping nav labels', async () => {
    const { workflowId } = await runWorkflow(h, 'we need a login page with SSO for our customer portal');
    // a long audit detail and a long request: the content that used to push the page wider than the screen
    await h.prisma.auditLog.create({ data: { actor: 'console:someone.with.a.long.name@example.com', action: 'config.role', target: 'business_analyst_with_a_long_target_name', detail: { before: 'x'.repeat(280), after: 'y'.repeat(280) } } });
    const pages = [
      '/admin', '/admin/cost', '/admin/budgets', '/admin/providers', '/admin/workflows', `/admin/workflows/${workflowId}`,
      '/admin/playground', '/admin/roles', '/admin/roles/business_analyst', '/admin/experiments', '/admin/experiments/insights',
      '/admin/rbac', '/admin/intents', '/admin/api-keys', '/admin/sessions', '/admin/audit', '/admin/privacy', '/admin/compliance',
      '/admin/workspaces', '/admin/workspaces/slack/T1', '/admin/password',
    ];
    const problems: string[] = [];
    for (const size of WIDTHS) {
      await page.setViewportSize(size);
      for (const p of pages) {
        const res = await page.goto(`${h.url}${p}`);
        expect(res?.status(), p).toBe(200);
        if (p === '/admin') await page.waitForSelector('body[data-charts-ready="true"]');
        const m = await layout();
        expect(m.navLabels, p).toBeGreaterThanOrEqual(10);
        if (m.scrollWidth > m.innerWidth) problems.push(`${size.width}px ${p}: document ${m.scrollWidth}px wide`);
        if (m.overlaps.length) problems.push(`${size.width}px ${p}: nav labels overlap: ${m.overlaps.join(', ')}`);
        if (m.offscreen.length) problems.push(`${size.width}px ${p}: nav labels off screen: ${m.offscreen.join(', ')}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('keeps a wide table scrollable inside its wrapper on a phone', async () => {
    await page.setViewportSize(WIDTHS[1]);
    await page.goto(`${h.url}/admin/audit`);
    const wrap = await page.evaluate(() => {
      const w = document.querySelector('#audit')!.closest('.table-wrap')! as HTMLElement;
      return { scrollWidth: w.scrollWidth, clientWidth: w.clientWidth, overflowX: getComputedStyle(w).overflowX };
    });
    expect(wrap.overflowX).toBe('auto');
    expect(wrap.scrollWidth).toBeGreaterThan(wrap.clientWidth); // the table is wider than the phone: it scrolls in place
    const m = await layout();
    expect(m.scrollWidth).toBeLessThanOrEqual(m.innerWidth);
  });

  it('lays out the sign-in page on a phone', async () => {
    await page.context().clearCookies();
    await page.setViewportSize(WIDTHS[1]);
    await page.goto(`${h.url}/admin/login`);
    const m = await layout();
    expect(m.scrollWidth).toBeLessThanOrEqual(m.innerWidth);
  });
});
