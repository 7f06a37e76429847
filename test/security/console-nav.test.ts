// The console's navigation shows each page only to the console roles that may open it (API keys: admin; Sessions:
// owner), and every page it links to opens for that role; a hidden page stays closed to a lower role.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RbacRole } from '../../generated/prisma/client';
import { startHarness, type Harness } from '../support/harness';
import { consoleAs } from './mcp-support';

let h: Harness;
beforeAll(async () => { h = await startHarness({ worker: false }); });
afterAll(async () => { await h?.close(); });

const navLinks = (html: string) => [...(/<nav>([\s\S]*?)<\/nav>/.exec(html)?.[1] ?? '').matchAll(/href="([^"]+)"/g)].map((m) => m[1]!);

describe('console navigation', () => {
  it.each<[RbacRole, string[]]>([
    ['viewer', ['/admin', '/admin/workflows', '/admin/roles', '/admin/rbac']],
    ['approver', ['/admin', '/admin/workflows', '/admin/roles', '/admin/rbac']],
    ['admin', ['/admin', '/admin/workflows', '/admin/roles', '/admin/rbac', '/admin/api-keys', '/admin/audit']],
    ['owner', ['/admin', '/admin/workflows', '/admin/roles', '/admin/rbac', '/admin/api-keys', '/admin/sessions', '/admin/audit']],
  ])('shows a %s the pages it may use, and each opens', async (role, expected) => {
    const c = await consoleAs(h, role);
    const links = navLinks(await (await c.get('/admin/workflows')).text());
    for (const href of expected) expect(links).toContain(href);
    for (const href of ['/admin/api-keys', '/admin/sessions', '/admin/audit'].filter((p) => !expected.includes(p))) {
      expect(links).not.toContain(href);
      expect((await c.get(href)).status).toBe(403);
    }
    for (const href of links) expect((await c.get(href)).status, href).toBe(200);
  });
});
