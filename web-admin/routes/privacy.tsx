// Privacy and compliance pages (issue 18). /admin/privacy: retention rules in force (config defaults and console rows)
// and the retention runs' reports, privacy settings per scope (PII redaction, local models only), legal holds, and
// subject requests (export as JSON with the person's files, erase). /admin/compliance: access changes, gate
// decisions, data exports and erasures and retention runs of a period, as a page and as CSV/JSON.
// Invariants: every value shown is escaped by JSX (CSV cells are quoted and defused against formula injection);
// everything that reads a person's data or changes something needs the admin role and the session's CSRF token, is
// checked by zod and audited; workspace-bound console users never reach these pages (they span every workspace).
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { audit } from '../../orchestrator/audit';
import { RETENTION_KINDS, retentionRuleSchema, retentionRules } from '../../orchestrator/privacy/retention';
import { privacyScopeSchema } from '../../orchestrator/privacy/settings';
import { eraseSubject, exportSubject, subjectSchema } from '../../orchestrator/privacy/subject';
import { requireCsrfToken, requireRole } from '../auth/guard';
import { consoleActor, type ConsoleDeps, type ConsoleEnv } from '../context';
import { CsrfField, fmtDate, Empty, Notice, Page } from '../views/layout';
import { loadNames, Person } from '../views/people';

const list = (v: unknown) => (typeof v === 'string' ? v.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean) : []);
const subjectFields = z.object({ userIds: z.string().max(2_000).default(''), emails: z.string().max(2_000).default('') });
/** The subject named by a form: comma- or space-separated ids and emails, bounded, then checked by subjectSchema. */
const subjectForm = {
  safeParse(body: unknown) {
    const f = subjectFields.safeParse(body);
    return f.success ? subjectSchema.safeParse({ userIds: list(f.data.userIds), emails: list(f.data.emails) }) : f;
  },
};
const eraseForm = z.object({ confirm: z.literal('ERASE', { message: 'type ERASE to confirm' }) });
const retentionKey = z.object({ kind: z.enum(RETENTION_KINDS), scopeKey: z.string().max(300) });
const settingForm = z.object({ scopeKey: privacyScopeSchema, redactPii: z.string().optional(), localModelsOnly: z.string().optional() });
const holdForm = z.object({ workflowId: z.string().uuid(), reason: z.string().trim().min(1).max(500).default('legal hold') });
const holdKey = z.object({ workflowId: z.string().uuid() });
const periodQuery = z.object({
  from: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
  to: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
  format: z.enum(['json', 'csv']).default('json'),
});

/** The audit actions the compliance report covers. */
export const COMPLIANCE_ACTIONS = ['rbac.', 'console.user', 'auth.', 'gate.', 'privacy.', 'retention.', 'api_key.', 'budget.', 'workspace', 'key.', 'encryption.'];

const issues = (e: z.ZodError) => e.issues.map((i) => `${i.path.join('.') || 'form'}: ${i.message}`).join('\n');

export function mountPrivacy(app: Hono<ConsoleEnv>, deps: ConsoleDeps): void {
  const secret = deps.privacy?.pseudonymSecret ?? deps.session.secret;
  const store = deps.privacy?.store;
  const change = [requireRole('admin'), requireCsrfToken()] as const;
  app.get('/admin/privacy', async (c) => c.html(await privacyPage(c, deps)));

  app.post('/admin/privacy/subject/export', ...change, async (c) => {
    const form = subjectForm.safeParse(await c.req.parseBody());
    if (!form.success) return c.html(await privacyPage(c, deps, issues(form.error)), 400);
    const data = await exportSubject(deps.prisma, form.data, consoleActor(c.get('user')), { ...(store ? { files: store } : {}) });
    c.header('Content-Disposition', 'attachment; filename="subject-export.json"');
    return c.json(data);
  });
  app.post('/admin/privacy/subject/erase', ...change, async (c) => {
    const body = await c.req.parseBody();
    const form = subjectForm.safeParse(body);
    const confirm = eraseForm.safeParse(body);
    if (!form.success || !confirm.success) return c.html(await privacyPage(c, deps, [form.error, confirm.error].map((e) => (e ? issues(e as z.ZodError) : '')).filter(Boolean).join('\n')), 400);
    const counts = await eraseSubject(deps.prisma, form.data, consoleActor(c.get('user')), { pseudonymSecret: secret, ...(store ? { files: store } : {}) });
    return c.html(await privacyPage(c, deps, undefined, `Erased: ${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')}.`));
  });

  app.post('/admin/privacy/retention', ...change, async (c) => {
    const form = retentionRuleSchema.safeParse(await c.req.parseBody());
    if (!form.success) return c.html(await privacyPage(c, deps, issues(form.error)), 400);
    const { kind, scopeKey, days } = form.data;
    const before = await deps.prisma.retentionPolicy.findUnique({ where: { kind_scopeKey: { kind, scopeKey } } });
    await deps.prisma.retentionPolicy.upsert({ where: { kind_scopeKey: { kind, scopeKey } }, create: { kind, scopeKey, days, updatedBy: consoleActor(c.get('user')) }, update: { days, updatedBy: consoleActor(c.get('user')) } });
    await audit(deps.prisma, { actor: consoleActor(c.get('user')), action: 'privacy.retention_set', target: `${kind}:${scopeKey}`, detail: { from: before?.days ?? null, to: days } });
    return c.redirect('/admin/privacy?done=1', 303);
  });
  app.post('/admin/privacy/retention/delete', ...change, async (c) => {
    const form = retentionKey.safeParse(await c.req.parseBody());
    if (!form.success) return c.html(await privacyPage(c, deps, 'Unknown policy.'), 400);
    const { count } = await deps.prisma.retentionPolicy.deleteMany({ where: form.data });
    if (count) await audit(deps.prisma, { actor: consoleActor(c.get('user')), action: 'privacy.retention_removed', target: `${form.data.kind}:${form.data.scopeKey}` });
    return c.redirect('/admin/privacy?done=1', 303);
  });

  app.post('/admin/privacy/settings', ...change, async (c) => {
    const form = settingForm.safeParse(await c.req.parseBody());
    if (!form.success) return c.html(await privacyPage(c, deps, issues(form.error)), 400);
    const data = { redactPii: form.data.redactPii === 'on', localModelsOnly: form.data.localModelsOnly === 'on', updatedBy: consoleActor(c.get('user')) };
    await deps.prisma.privacySetting.upsert({ where: { scopeKey: form.data.scopeKey }, create: { scopeKey: form.data.scopeKey, ...data }, update: data });
    await audit(deps.prisma, { actor: consoleActor(c.get('user')), action: 'privacy.settings', target: form.data.scopeKey, detail: { redactPii: data.redactPii, localModelsOnly: data.localModelsOnly } });
    return c.redirect('/admin/privacy?done=1', 303);
  });

  app.post('/admin/privacy/holds', ...change, async (c) => {
    const form = holdForm.safeParse(await c.req.parseBody());
    if (!form.success) return c.html(await privacyPage(c, deps, issues(form.error)), 400);
    if (!(await deps.prisma.workflow.count({ where: { id: form.data.workflowId } }))) return c.html(await privacyPage(c, deps, 'No such workflow.'), 400);
    await deps.prisma.legalHold.upsert({ where: { workflowId: form.data.workflowId }, create: { ...form.data, placedBy: consoleActor(c.get('user')) }, update: { reason: form.data.reason } });
    await audit(deps.prisma, { actor: consoleActor(c.get('user')), action: 'privacy.hold_placed', target: form.data.workflowId, detail: { reason: form.data.reason } });
    return c.redirect('/admin/privacy?done=1', 303);
  });
  app.post('/admin/privacy/holds/delete', ...change, async (c) => {
    const form = holdKey.safeParse(await c.req.parseBody());
    if (!form.success) return c.html(await privacyPage(c, deps, 'Unknown hold.'), 400);
    const { count } = await deps.prisma.legalHold.deleteMany({ where: form.data });
    if (count) await audit(deps.prisma, { actor: consoleActor(c.get('user')), action: 'privacy.hold_released', target: form.data.workflowId });
    return c.redirect('/admin/privacy?done=1', 303);
  });

  // Compliance report: admins and owners (it names people).
  // Encryption at rest (orchestrator/privacy/at-rest.ts): re-wrap the data keys under ENCRYPTION_MASTER_KEY, and seal
  // clear rows written before; owners only, audited (encryption.key_rotated, encryption.backfill).
  const owner = [requireRole('owner'), requireCsrfToken()] as const;
  app.post('/admin/privacy/encryption/rotate', ...owner, async (c) => {
    const a = deps.privacy?.atRest;
    if (!a?.on) return c.html(await privacyPage(c, deps, 'Encryption at rest is off (ENCRYPTION_MASTER_KEY is unset).'), 400);
    const r = await a.rotate(consoleActor(c.get('user')));
    return c.html(await privacyPage(c, deps, undefined, `Re-wrapped ${r.rewrapped} data key(s) under master key ${r.to}; ${r.alreadyCurrent} were already under it.`));
  });
  app.post('/admin/privacy/encryption/backfill', ...owner, async (c) => {
    const a = deps.privacy?.atRest;
    if (!a?.on) return c.html(await privacyPage(c, deps, 'Encryption at rest is off (ENCRYPTION_MASTER_KEY is unset).'), 400);
    const counts = await a.backfill(500);
    await audit(deps.prisma, { actor: consoleActor(c.get('user')), action: 'encryption.backfill', detail: counts });
    const n = Object.values(counts).reduce((x, y) => x + y, 0);
    return c.html(await privacyPage(c, deps, undefined, `Sealed ${n} clear value(s)${n ? ' (one batch per table: press again until 0)' : ''}.`));
  });
  app.get('/admin/compliance', requireRole('admin'), async (c) => {
    const q = periodQuery.safeParse(c.req.query());
    const rows = q.success ? await complianceRows(deps, q.data.from, q.data.to) : [];
    const names = await loadNames(deps.prisma, rows.map((r) => r.actor));
    const csrf = c.get('session').csrf;
    return c.html(
      <Page title="Compliance report" user={c.get('user')} csrf={csrf} active="privacy">
        <Notice kind="error" text={q.success ? undefined : 'from/to must be YYYY-MM-DD'} />
        <form method="get" action="/admin/compliance" class="filters">
          <div><label for="c-from">From</label><input id="c-from" name="from" type="date" value={q.success ? q.data.from ?? '' : ''} /></div>
          <div><label for="c-to">To</label><input id="c-to" name="to" type="date" value={q.success ? q.data.to ?? '' : ''} /></div>
          <button type="submit">Show</button>
        </form>
        <p><a href={`/admin/api/compliance?format=csv&from=${q.success ? q.data.from ?? '' : ''}&to=${q.success ? q.data.to ?? '' : ''}`}>CSV</a> · <a href={`/admin/api/compliance?format=json&from=${q.success ? q.data.from ?? '' : ''}&to=${q.success ? q.data.to ?? '' : ''}`}>JSON</a></p>
        <div class="table-wrap"><table id="compliance">
          <thead><tr><th>At</th><th>Actor</th><th>Action</th><th>Target</th><th>Detail</th></tr></thead>
          <tbody>{rows.map((r) => <tr><td>{fmtDate(r.at)}</td><td><Person id={r.actor} names={names} /></td><td>{r.action}</td><td>{r.target ?? ''}</td><td><code>{r.detail ? JSON.stringify(r.detail).slice(0, 300) : ''}</code></td></tr>)}</tbody>
        </table></div>
        <Empty when={rows.length === 0} id="compliance">Nothing in this period: access changes, gate decisions, exports, erasures and retention runs appear here as they happen. Widen the period, or leave it empty for everything.</Empty>
      </Page>,
    );
  });
  app.get('/admin/api/compliance', requireRole('admin'), async (c) => {
    const q = periodQuery.safeParse(c.req.query());
    if (!q.success) return c.json({ error: 'bad_request', message: issues(q.error) }, 400);
    const rows = await complianceRows(deps, q.data.from, q.data.to);
    if (q.data.format === 'json') return c.json(rows);
    c.header('Content-Type', 'text/csv; charset=utf-8');
    c.header('Content-Disposition', 'attachment; filename="compliance.csv"');
    return c.body(['at,actor,action,target,detail', ...rows.map((r) => [r.at.toISOString(), r.actor, r.action, r.target ?? '', r.detail ? JSON.stringify(r.detail) : ''].map(csvCell).join(','))].join('\r\n') + '\r\n');
  });
}

/** A CSV cell: quoted, and a leading = + - @ defused so a spreadsheet does not run it as a formula. */
export const csvCell = (v: string) => `"${(/^[=+\-@\t\r]/.test(v) ? `'${v}` : v).replace(/"/g, '""')}"`;

async function complianceRows(deps: ConsoleDeps, from?: string, to?: string) {
  const at: { gte?: Date; lt?: Date } = {};
  if (from) at.gte = new Date(`${from}T00:00:00Z`);
  if (to) at.lt = new Date(new Date(`${to}T00:00:00Z`).getTime() + 86_400_000);
  return deps.prisma.auditLog.findMany({
    where: { at, OR: COMPLIANCE_ACTIONS.map((a) => ({ action: { startsWith: a } })) },
    orderBy: { at: 'asc' }, take: 10_000,
  });
}

async function privacyPage(c: Context<ConsoleEnv>, deps: ConsoleDeps, error?: string, ok?: string) {
  const csrf = c.get('session').csrf;
  const canEdit = ['owner', 'admin'].includes(c.get('user').role);
  const atRest = deps.privacy?.atRest;
  const [rules, runs, settings, holds, dataKeys] = await Promise.all([
    retentionRules(deps.prisma, deps.privacy?.retention ?? []),
    deps.prisma.retentionRun.findMany({ orderBy: { startedAt: 'desc' }, take: 20 }),
    deps.prisma.privacySetting.findMany({ orderBy: { scopeKey: 'asc' } }),
    deps.prisma.legalHold.findMany({ orderBy: { placedAt: 'desc' }, take: 200 }),
    deps.prisma.dataKey.groupBy({ by: ['masterKeyId'], _count: { _all: true } }),
  ]);
  return (
    <Page title="Privacy" user={c.get('user')} csrf={csrf} active="privacy">
      <Notice kind="error" text={error} />
      <Notice kind="ok" text={ok ?? (c.req.query('done') ? 'Saved.' : undefined)} />
      {!canEdit && <p>You can view retention and privacy settings; subject requests and changes need the admin role.</p>}
      <p><a href="/admin/compliance">Compliance report</a></p>
      <h2>Retention</h2>
      <div class="table-wrap"><table id="retention-rules">
        <thead><tr><th>Kind</th><th>Scope</th><th>Days</th><th>Source</th><th></th></tr></thead>
        <tbody>{rules.map((r) => (
          <tr data-rule={`${r.kind}:${r.scopeKey}`}><td>{r.kind}</td><td>{r.scopeKey === '*' ? 'every workspace' : r.scopeKey}</td><td>{r.days}</td><td>{r.source === 'config' ? 'config (RETENTION)' : 'console'}</td>
            <td>{canEdit && r.source === 'console' && (
              <form method="post" action="/admin/privacy/retention/delete" class="inline"><CsrfField token={csrf} />
                <input type="hidden" name="kind" value={r.kind} /><input type="hidden" name="scopeKey" value={r.scopeKey} /><button type="submit">Remove</button></form>
            )}</td></tr>
        ))}</tbody>
      </table></div>
      <Empty when={rules.length === 0} id="retention-rules">No retention policy: everything is kept until someone deletes it. {canEdit ? 'Set one below (for example kind workflows, scope *, 365 days)' : 'An admin can set one here'}, or in config with RETENTION.</Empty>
      {canEdit && (
        <form method="post" action="/admin/privacy/retention" class="filters" id="set-retention"><CsrfField token={csrf} />
          <div><label for="r-kind">Kind</label><select id="r-kind" name="kind">{RETENTION_KINDS.map((k) => <option value={k}>{k}</option>)}</select></div>
          <div><label for="r-scope">Scope</label><input id="r-scope" name="scopeKey" value="*" placeholder="* or team:slack:T0123 or channel:slack:C0123" required /></div>
          <div><label for="r-days">Days</label><input id="r-days" name="days" inputmode="numeric" required /></div>
          <button type="submit">Set policy</button>
        </form>
      )}
      <h3>Retention runs</h3>
      <div class="table-wrap"><table id="retention-runs">
        <thead><tr><th>Started</th><th>Status</th><th>Batches</th><th>Changed</th><th>Finished</th><th>Error</th></tr></thead>
        <tbody>{runs.map((r) => (
          <tr><td>{fmtDate(r.startedAt)}</td><td>{r.status}</td><td>{r.batches}</td><td>{Object.entries(r.counts as Record<string, number>).map(([k, v]) => `${k} ${v}`).join(', ') || '—'}</td><td>{fmtDate(r.finishedAt)}</td><td>{r.error ?? ''}</td></tr>
        ))}</tbody>
      </table></div>
      <Empty when={runs.length === 0} id="retention-runs">No retention run yet{rules.length ? ': the worker runs one daily.' : ' (nothing to run: no policy).'}</Empty>
      <h2>Privacy settings</h2>
      <div class="table-wrap"><table id="privacy-settings">
        <thead><tr><th>Scope</th><th>Redact PII before models</th><th>Local models only</th><th>By</th></tr></thead>
        <tbody>{settings.map((s) => <tr><td>{s.scopeKey}</td><td>{s.redactPii ? 'yes' : 'no'}</td><td>{s.localModelsOnly ? 'yes' : 'no'}</td><td>{s.updatedBy.replace(/^console:/, '')}</td></tr>)}</tbody>
      </table></div>
      <Empty when={settings.length === 0} id="privacy-settings">No privacy setting: personal data reaches models unredacted and any configured model may be used. {canEdit ? <>Set one below for every workspace (<code>*</code>), a workspace (<code>team:slack:T0123</code>) or a channel — or per workspace on <a href="/admin/workspaces">Workspaces</a>.</> : 'An admin can set one here.'}</Empty>
      {canEdit && (
        <form method="post" action="/admin/privacy/settings" class="filters" id="set-privacy"><CsrfField token={csrf} />
          <div><label for="p-scope">Scope</label><input id="p-scope" name="scopeKey" value="*" required /></div>
          <div><label><input type="checkbox" name="redactPii" /> Redact PII</label></div>
          <div><label><input type="checkbox" name="localModelsOnly" /> Local models only</label></div>
          <button type="submit">Save</button>
        </form>
      )}
      <h2>Legal holds</h2>
      <div class="table-wrap"><table id="legal-holds">
        <thead><tr><th>Workflow</th><th>Reason</th><th>By</th><th>Since</th><th></th></tr></thead>
        <tbody>{holds.map((h) => (
          <tr><td><a href={`/admin/workflows/${h.workflowId}`}>{h.workflowId}</a></td><td>{h.reason}</td><td>{h.placedBy.replace(/^console:/, '')}</td><td>{fmtDate(h.placedAt)}</td>
            <td>{canEdit && <form method="post" action="/admin/privacy/holds/delete" class="inline"><CsrfField token={csrf} /><input type="hidden" name="workflowId" value={h.workflowId} /><button type="submit">Release</button></form>}</td></tr>
        ))}</tbody>
      </table></div>
      <Empty when={holds.length === 0} id="legal-holds">No legal hold: retention and erasure apply to every workflow. {canEdit ? 'Place one below with a workflow id from Workflows.' : ''}</Empty>
      {canEdit && (
        <form method="post" action="/admin/privacy/holds" class="filters" id="place-hold"><CsrfField token={csrf} />
          <div><label for="h-wf">Workflow id</label><input id="h-wf" name="workflowId" required /></div>
          <div><label for="h-reason">Reason</label><input id="h-reason" name="reason" /></div>
          <button type="submit">Place hold</button>
        </form>
      )}
      <h2>Encryption at rest</h2>
      {atRest?.on
        ? <p id="encryption">On: message text, outputs, posts and file text are sealed (AES-256-GCM) under a data key per workspace, wrapped by master key <code>{atRest.ring.wrapper!.masterKeyId}</code>. Data keys: {dataKeys.map((d) => `${d._count._all} under ${d.masterKeyId}`).join(', ') || 'none yet'}. A lost master key makes the sealed data unreadable.</p>
        : <p id="encryption">Off: set <code>ENCRYPTION_MASTER_KEY</code> to seal message text, outputs, posts and file text (README "Privacy").</p>}
      {atRest?.on && c.get('user').role === 'owner' && (<>
        <form method="post" action="/admin/privacy/encryption/rotate" class="inline" id="rotate-keys"><CsrfField token={csrf} /><button type="submit">Re-wrap data keys under the current master key</button></form>
        {' '}<form method="post" action="/admin/privacy/encryption/backfill" class="inline" id="backfill"><CsrfField token={csrf} /><button type="submit">Seal clear rows written before</button></form>
      </>)}
      {canEdit && (<>
        <h2>Subject requests</h2>
        <p>Chat user ids (Slack U…, Teams ids, console user ids) and console emails, separated by commas. Export downloads JSON with the person's files; erase removes their text and files and replaces their ids by a pseudonym (decisions stay, by the pseudonym). Both are audited.</p>
        <form method="post" action="/admin/privacy/subject/export" class="filters" id="subject-export"><CsrfField token={csrf} />
          <div><label for="s-ids">User ids</label><input id="s-ids" name="userIds" /></div>
          <div><label for="s-emails">Emails</label><input id="s-emails" name="emails" /></div>
          <button type="submit">Export</button>
        </form>
        <form method="post" action="/admin/privacy/subject/erase" class="filters" id="subject-erase"><CsrfField token={csrf} />
          <div><label for="e-ids">User ids</label><input id="e-ids" name="userIds" /></div>
          <div><label for="e-emails">Emails</label><input id="e-emails" name="emails" /></div>
          <div><label for="e-confirm">Type ERASE</label><input id="e-confirm" name="confirm" /></div>
          <button type="submit">Erase</button>
        </form>
      </>)}
    </Page>
  );
}
