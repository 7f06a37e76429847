// The audit log: filterable by actor, action, target and time; exportable as CSV (admins and owners).
import type { Hono } from 'hono';
import { z } from 'zod';
import type { Prisma } from '../../generated/prisma/client';
import { requireRole } from '../auth/guard';
import type { ConsoleDeps, ConsoleEnv } from '../context';
import { Empty, fmtDate, Page } from '../views/layout';
import { loadNames, Person } from '../views/people';

const blank = (v: unknown) => (v === '' ? undefined : v);
const filterSchema = z.object({
  actor: z.preprocess(blank, z.string().max(200).optional()),
  action: z.preprocess(blank, z.string().max(100).optional()),
  target: z.preprocess(blank, z.string().max(200).optional()),
  from: z.preprocess(blank, z.coerce.date().optional()),
  to: z.preprocess(blank, z.coerce.date().optional()),
});
type Filters = z.infer<typeof filterSchema>;

const whereOf = (f: Filters): Prisma.AuditLogWhereInput => ({
  actor: f.actor ? { contains: f.actor, mode: 'insensitive' } : undefined,
  action: f.action ? { startsWith: f.action } : undefined,
  target: f.target ? { contains: f.target, mode: 'insensitive' } : undefined,
  at: f.from || f.to ? { gte: f.from, lte: f.to } : undefined,
});

const csvCell = (v: unknown) => {
  const s = v == null ? '' : typeof v === 'string' ? v : v instanceof Date ? v.toISOString() : JSON.stringify(v);
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s; // no formulas when opened in a spreadsheet
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
};

export function mountAudit(app: Hono<ConsoleEnv>, deps: ConsoleDeps): void {
  const load = (f: Filters, take: number) => deps.prisma.auditLog.findMany({ where: whereOf(f), orderBy: { at: 'desc' }, take });

  for (const p of ['/admin/audit', '/admin/audit.csv', '/admin/api/audit']) app.use(p, requireRole('admin'));

  app.get('/admin/audit', async (c) => {
    const f = filterSchema.safeParse(c.req.query());
    const filters = f.success ? f.data : {};
    const rows = await load(filters, 500);
    const names = await loadNames(deps.prisma, rows.map((r) => r.actor));
    const qs = new URLSearchParams(Object.entries(c.req.query()).filter(([, v]) => v)).toString();
    return c.html(
      <Page title="Audit log" user={c.get('user')} csrf={c.get('session').csrf} active="audit">
        <form method="get" action="/admin/audit" class="filters">
          {(['actor', 'action', 'target'] as const).map((k) => <div><label for={k}>{k}</label><input id={k} name={k} value={filters[k] ?? ''} /></div>)}
          <div><label for="from">from</label><input id="from" name="from" type="date" value={filters.from?.toISOString().slice(0, 10) ?? ''} /></div>
          <div><label for="to">to</label><input id="to" name="to" type="date" value={filters.to?.toISOString().slice(0, 10) ?? ''} /></div>
          <button type="submit">Filter</button>
          <a href={`/admin/audit.csv${qs ? `?${qs}` : ''}`}>Export CSV</a>
        </form>
        <div class="table-wrap"><table id="audit">
          <thead><tr><th>At</th><th>Actor</th><th>Action</th><th>Target</th><th>Detail</th></tr></thead>
          <tbody>{rows.map((r) => <tr><td>{fmtDate(r.at)}</td><td><Person id={r.actor} names={names} /></td><td>{r.action}</td><td>{r.target ?? ''}</td><td><code>{r.detail ? JSON.stringify(r.detail).slice(0, 300) : ''}</code></td></tr>)}</tbody>
        </table></div>
        <Empty when={rows.length === 0} id="audit">{Object.values(filters).some((v) => v !== undefined)
          ? <>No entry matches these filters — <a href="/admin/audit">clear them</a>.</>
          : <>Nothing audited yet: sign-ins, gate decisions, role edits and access changes appear here. Run a workflow in the <a href="/admin/playground">Playground</a> and approve its gate to see one.</>}</Empty>
      </Page>,
    );
  });

  app.get('/admin/audit.csv', async (c) => {
    const f = filterSchema.safeParse(c.req.query());
    if (!f.success) return c.text('Bad filter', 400);
    const rows = await load(f.data, 100_000);
    const lines = [['at', 'actor', 'action', 'target', 'detail'].join(','), ...rows.map((r) => [r.at, r.actor, r.action, r.target, r.detail].map(csvCell).join(','))];
    return c.body(`${lines.join('\r\n')}\r\n`, 200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="rolecall-audit.csv"' });
  });

  app.get('/admin/api/audit', async (c) => {
    const f = filterSchema.safeParse(c.req.query());
    if (!f.success) return c.json({ error: 'bad_request' }, 400);
    return c.json(await load(f.data, 1000));
  });
}
