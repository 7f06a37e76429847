// Workflows: a filtered list, a detail page (steps, posts, LLM calls, approvals, violations), retry and cancel.
// Invariant: no empty table is shown: an empty list or sub-table is a sentence saying why and what comes next.
import { downloadHeaders } from '../views/download';
import type { Hono } from 'hono';
import { z } from 'zod';
import type { Prisma } from '../../generated/prisma/client';
import { PLATFORMS } from '../../orchestrator/contract';
import { mentionIds, plainText } from '../../orchestrator/markup';
import { requireCsrfToken, requireRole } from '../auth/guard';
import { teamFilter } from '../auth/workspaces';
import type { ConsoleDeps, ConsoleEnv } from '../context';
import { CsrfField, Empty, fmtDate, Notice, Page } from '../views/layout';
import { keyOf, loadNames, Person } from '../views/people';
import { finalStepNote, finalStepStatus } from '../views/steps';

const STATUSES = ['running', 'awaiting_approval', 'step_failed', 'completed', 'rejected', 'cancelled'] as const;
const blankToUndefined = (v: unknown) => (v === '' ? undefined : v);
const filterSchema = z.object({
  status: z.preprocess(blankToUndefined, z.enum(STATUSES).optional()),
  platform: z.preprocess(blankToUndefined, z.enum(PLATFORMS).optional()),
  channel: z.preprocess(blankToUndefined, z.string().trim().max(100).optional()),
  role: z.preprocess(blankToUndefined, z.string().regex(/^[a-z][a-z0-9_]*$/).optional()),
});
type Filters = z.infer<typeof filterSchema>;
const idParam = z.object({ id: z.string().uuid() });
const retrySchema = z.object({ stepId: z.string().uuid() });
const fileParam = z.object({ id: z.string().uuid(), fileId: z.string().uuid() });
/** A file name for the plain filename= parameter: printable ASCII without quotes or backslashes. */
const fileSize = (n: number) => (n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${Math.round(n / 1024)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`);

const whereOf = (f: Filters): Prisma.WorkflowWhereInput => ({
  status: f.status, platform: f.platform, channelId: f.channel, ...(f.role ? { steps: { some: { roleId: f.role } } } : {}),
});

// `teams`: the signed-in user's workspaces (web-admin/auth/workspaces.ts); a workflow of another is "not found".
const listWorkflows = (deps: ConsoleDeps, f: Filters, teams: string[] | undefined) =>
  deps.prisma.workflow.findMany({ where: { ...whereOf(f), ...teamFilter(teams) }, orderBy: { createdAt: 'desc' }, take: 200, include: { _count: { select: { steps: true } } } });

const loadWorkflow = (deps: ConsoleDeps, id: string, teams: string[] | undefined) =>
  deps.prisma.workflow.findFirst({
    where: { id, ...teamFilter(teams) },
    include: {
      steps: { orderBy: { position: 'asc' } },
      messages: { orderBy: { createdAt: 'asc' } },
      llmCalls: { orderBy: { createdAt: 'asc' } },
      approvals: { orderBy: { createdAt: 'asc' } },
      tierRuns: { orderBy: { createdAt: 'asc' } },
      tierEscalations: { orderBy: { createdAt: 'asc' } },
      files: { orderBy: { createdAt: 'asc' }, select: { id: true, name: true, mime: true, bytes: true, status: true, error: true, platform: true, createdAt: true, blobId: true, sha256: true } },
      outputFiles: { orderBy: [{ createdAt: 'asc' }, { name: 'asc' }], select: { id: true, roleId: true, revision: true, name: true, mime: true, bytes: true, delivery: true, error: true, createdAt: true } },
    },
  });

export function mountWorkflows(app: Hono<ConsoleEnv>, deps: ConsoleDeps): void {
  app.get('/admin/workflows', async (c) => {
    const f = filterSchema.safeParse(c.req.query());
    const filters = f.success ? f.data : {};
    const rows = await listWorkflows(deps, filters, c.get('workspaces'));
    const names = await loadNames(deps.prisma, rows.map((w) => keyOf(w.requestedBy, w.platform)));
    const mine = await boundWorkspaces(deps, c.get('workspaces'));
    return c.html(
      <Page title="Workflows" user={c.get('user')} csrf={c.get('session').csrf} active="workflows" scoped={!!c.get('workspaces')}>
        {!f.success && <Notice kind="error" text="Some filters were invalid and were ignored." />}
        {mine.length > 0 && <p id="my-workspaces">Settings of your workspace{mine.length > 1 ? 's' : ''}: {mine.map((w, i) => <>{i > 0 && ', '}<a href={`/admin/workspaces/${w.platform}/${encodeURIComponent(w.teamId)}`}>{w.teamId}{w.platform === 'slack' ? '' : ` (${w.platform})`}</a></>)}</p>}
        <WorkflowFilters f={filters} roles={[...deps.roles.keys()]} />
        <div class="table-wrap"><table id="workflows">
          <thead><tr><th>Created</th><th>Status</th><th>Platform</th><th>Channel</th><th>By</th><th>Request</th><th>Steps</th></tr></thead>
          <tbody>
            {rows.map((w) => (
              <tr>
                <td>{fmtDate(w.createdAt)}</td><td class="status">{w.status}</td><td>{w.platform}</td><td>{w.channelId}</td><td><Person id={w.requestedBy} platform={w.platform} names={names} /></td>
                <td><a href={`/admin/workflows/${w.id}`}>{w.requestText.slice(0, 100)}</a></td><td>{w._count.steps}</td>
              </tr>
            ))}
          </tbody>
        </table></div>
        <Empty when={rows.length === 0} id="workflows">
          {Object.values(filters).some((v) => v !== undefined)
            ? <>No workflow matches these filters — <a href="/admin/workflows">show every workflow</a>.</>
            : <>No workflows yet — try one in the <a href="/admin/playground">Playground</a> (no Slack or Teams needed), or mention Rolecall in a channel.</>}
        </Empty>
      </Page>,
    );
  });

  app.get('/admin/api/workflows', async (c) => {
    const f = filterSchema.safeParse(c.req.query());
    if (!f.success) return c.json({ error: 'bad_request', issues: f.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) }, 400);
    const rows = await listWorkflows(deps, f.data, c.get('workspaces'));
    return c.json(rows.map(({ _count, ...w }) => ({ ...w, steps: _count.steps })));
  });

  app.get('/admin/api/workflows/:id', async (c) => {
    const p = idParam.safeParse(c.req.param());
    const wf = p.success ? await loadWorkflow(deps, p.data.id, c.get('workspaces')) : null;
    if (!wf) return c.json({ error: 'not_found' }, 404);
    const violations = await deps.prisma.constraintViolation.findMany({ where: { workflowId: wf.id }, orderBy: { createdAt: 'asc' } });
    const steps = wf.steps.map((s) => ({ ...s, finalStatus: finalStepStatus(s.status, wf.status, rejectedGate(wf, s.id)) }));
    return c.json({ ...wf, steps, llmCalls: wf.llmCalls.map((l) => ({ ...l, costUsd: Number(l.costUsd) })), violations });
  });

  app.get('/admin/workflows/:id', async (c) => {
    const p = idParam.safeParse(c.req.param());
    const wf = p.success ? await loadWorkflow(deps, p.data.id, c.get('workspaces')) : null;
    if (!wf) return c.html(<Page title="Workflow not found" user={c.get('user')} csrf={c.get('session').csrf} scoped={!!c.get('workspaces')}><p><a href="/admin/workflows">All workflows</a></p></Page>, 404);
    const violations = await deps.prisma.constraintViolation.findMany({ where: { workflowId: wf.id }, orderBy: { createdAt: 'asc' } });
    // "Add to Slack" installs: a workspace that uninstalled the app (or revoked its token) gets no posts; say so
    const install = wf.platform === 'slack' ? await deps.prisma.slackInstallation.findUnique({ where: { teamId: wf.teamId }, select: { status: true, disabledAt: true } }) : null;
    // posts show people by name where Rolecall knows it (Teams users it has met), not as raw ids or <at> tags
    const ids = [...new Set(wf.messages.flatMap((m) => mentionIds(m.text)))].slice(0, 200);
    const names = await loadNames(deps.prisma, [...ids, keyOf(wf.requestedBy, wf.platform), ...wf.approvals.map((a) => a.decidedBy && keyOf(a.decidedBy, wf.platform))]);
    const fileMakers = [...new Set(wf.steps.map((s) => s.roleId))].filter((r) => (deps.roles.get(r)?.outputs.files.length ?? 0) > 0);
    return c.html(<WorkflowDetail wf={wf} violations={violations} csrf={c.get('session').csrf} user={c.get('user')} notice={c.req.query('done')} traceUrl={deps.traceUrl?.(wf.id)} install={install} names={names} scoped={!!c.get('workspaces')} fileMakers={fileMakers} />);
  });

  // A shared file's bytes, for anyone who may see the workflow (every signed-in console user). Always a download of
  // opaque bytes (never rendered: an HTML or SVG file must not run in the console's origin).
  // A file a role made (role YAML outputs.files), for anyone who may see the workflow; a download, like shared files.
  app.get('/admin/workflows/:id/outputs/:fileId', async (c) => {
    const p = fileParam.safeParse(c.req.param());
    if (!p.success) return c.text('Not found', 404);
    const file = await deps.prisma.outputFile.findFirst({ where: { id: p.data.fileId, workflowId: p.data.id } });
    const bytes = file && deps.files ? await deps.files.get(file.sha256) : undefined;
    if (!file || !bytes) return c.text('Not found', 404);
    return c.body(Buffer.from(bytes), 200, downloadHeaders(file.name));
  });

  app.get('/admin/workflows/:id/files/:fileId', async (c) => {
    const p = fileParam.safeParse(c.req.param());
    if (!p.success) return c.text('Not found', 404);
    const file = await deps.prisma.sharedFile.findFirst({ where: { id: p.data.fileId, workflowId: p.data.id, blobId: { not: null }, workflow: teamFilter(c.get('workspaces')) } });
    const bytes = file && deps.files ? await deps.files.get(file.sha256) : undefined;
    if (!file || !bytes) return c.text('Not found', 404);
    return c.body(Buffer.from(bytes), 200, downloadHeaders(file.name));
  });

  app.post('/admin/workflows/:id/retry', requireRole('approver'), requireCsrfToken(), async (c) => {
    const p = idParam.safeParse(c.req.param());
    const body = retrySchema.safeParse(await c.req.parseBody());
    if (!p.success || !body.success) return c.text('Bad request: a step id is required', 400);
    const step = await deps.prisma.step.findFirst({ where: { id: body.data.stepId, workflowId: p.data.id, workflow: teamFilter(c.get('workspaces')) } });
    if (!step) return c.text('No such step in this workflow', 404);
    const outcome = await deps.workflows.act('retry_step', step.id, { kind: 'console', email: c.get('user').email }); // audited there
    return c.redirect(`/admin/workflows/${p.data.id}?done=${outcome.kind === 'done' ? 'retried' : 'not-failed'}`, 303);
  });

  app.post('/admin/workflows/:id/cancel', requireRole('approver'), requireCsrfToken(), async (c) => {
    const p = idParam.safeParse(c.req.param());
    if (!p.success) return c.text('Bad request', 400);
    if (!(await deps.prisma.workflow.findFirst({ where: { id: p.data.id, ...teamFilter(c.get('workspaces')) }, select: { id: true } }))) return c.text('No such workflow', 404);
    const outcome = await deps.workflows.act('cancel_workflow', p.data.id, { kind: 'console', email: c.get('user').email }); // audited there
    return c.redirect(`/admin/workflows/${p.data.id}?done=${outcome.kind === 'done' ? 'cancelled' : 'not-active'}`, 303);
  });
}

function WorkflowFilters({ f, roles }: { f: Filters; roles: string[] }) {
  const select = (name: string, values: readonly string[], current?: string) => (
    <div>
      <label for={name}>{name}</label>
      <select id={name} name={name}>
        <option value="">any</option>
        {values.map((v) => <option value={v} selected={v === current}>{v}</option>)}
      </select>
    </div>
  );
  return (
    <form method="get" action="/admin/workflows" class="filters">
      {select('status', STATUSES, f.status)}
      {select('platform', PLATFORMS, f.platform)}
      <div><label for="channel">channel</label><input id="channel" name="channel" value={f.channel ?? ''} /></div>
      {select('role', roles, f.role)}
      <button type="submit">Filter</button>
    </form>
  );
}

/** A workspace-bound user's workspaces with their platform (from their workflows; Slack when none ran yet). */
async function boundWorkspaces(deps: ConsoleDeps, teams: string[] | undefined): Promise<{ platform: string; teamId: string }[]> {
  if (!teams) return [];
  const seen = await deps.prisma.workflow.findMany({ where: { teamId: { in: teams } }, distinct: ['platform', 'teamId'], select: { platform: true, teamId: true }, take: 100 });
  return [...seen, ...teams.filter((t) => !seen.some((w) => w.teamId === t)).map((teamId) => ({ platform: 'slack', teamId }))];
}

type LoadedWorkflow = NonNullable<Awaited<ReturnType<typeof loadWorkflow>>>;

/** The step's latest gate was rejected (what ended a rejected workflow). */
const rejectedGate = (wf: Pick<LoadedWorkflow, 'approvals'>, stepId: string) => wf.approvals.filter((a) => a.stepId === stepId).at(-1)?.status === 'rejected';
type Violation = Awaited<ReturnType<ConsoleDeps['prisma']['constraintViolation']['findMany']>>[number];

const NOTICES: Record<string, [kind: 'ok' | 'error', text: string]> = {
  retried: ['ok', 'The step was queued to run again.'],
  'not-failed': ['error', 'That step is not failed (someone may have retried it already).'],
  cancelled: ['ok', 'The workflow was cancelled.'],
  'not-active': ['error', 'The workflow has already finished.'],
};

type InstallState = { status: 'active' | 'uninstalled' | 'tokens_revoked'; disabledAt: Date | null } | null;

/** What each empty sub-table of a workflow's page says instead of a bare header: why it has no rows (yet), and what
 *  comes next, from the workflow's state (running or ended, its steps and gates). Absent: the table has rows. */
function emptyStates(wf: LoadedWorkflow, violations: number, fileMakers: string[]) {
  const active = ['planned', 'running', 'awaiting_approval', 'step_failed'].includes(wf.status);
  const ended = wf.status.replace('_', ' ');
  const ran = wf.steps.some((s) => s.startedAt);
  const gated = wf.steps.filter((s) => s.gateAfter);
  const roles = (ids: string[]) => ids.map((r, i) => <>{i > 0 && ', '}<a href={`/admin/roles/${r}`}>{r}</a></>);
  const afterPlan = wf.steps.length ? '' : ', once the plan is posted';
  return {
    steps: wf.steps.length ? undefined : active
      ? 'No steps yet: Rolecall is still choosing the workflow for this request. The steps appear here when the plan is posted in the thread.'
      : `No steps: the workflow ended (${ended}) before a plan was made, so no role ran.`,
    files: wf.files.length ? undefined : active
      ? <>No files shared yet: nobody has shared a file in this thread. A file shared there (in the <a href="/admin/playground">Playground</a>: attached to a reply) appears here once Rolecall has read it, and the roles work from it in their next step.</>
      : 'No files: nobody shared a file in this thread while the workflow ran.',
    outputFiles: wf.outputFiles.length ? undefined : fileMakers.length === 0
      ? <>No files made by roles: no role in this workflow makes files (a role does when its YAML lists <code>outputs.files</code>; see <a href="/admin/roles">Roles</a>).</>
      : active
        ? <>No files made yet: {roles(fileMakers)} attach{fileMakers.length === 1 ? 'es' : ''} files to {fileMakers.length === 1 ? 'its' : 'their'} post when {fileMakers.length === 1 ? 'its' : 'their'} step runs; they appear here with a download link.</>
        : <>No files made: the workflow ended ({ended}) before {roles(fileMakers)} posted one.</>,
    posts: wf.messages.length ? undefined : active
      ? 'Nothing posted yet: the plan is the first post in the thread, then each role\'s status and output; they appear here as they are sent.'
      : `Nothing posted: the workflow ended (${ended}) before anything was posted in the thread.`,
    llmCalls: wf.llmCalls.length ? undefined : active
      ? `No LLM calls yet: each model call a role's step makes (model, tokens, cost, latency) appears here as the step runs${afterPlan}.`
      : `No LLM calls: the workflow ended (${ended}) before any step called a model.`,
    tierRuns: wf.tierRuns.length ? undefined : active && !ran
      ? `No tier runs yet: each run of a step on a model tier (with its outcome and cost) appears here as the step runs${afterPlan}.`
      : active ? 'No tier runs recorded yet for the steps that ran: each finished run of a step on a model tier appears here with its outcome and cost.'
        : `No tier runs: no step of this workflow finished a run on a model tier (${ended}).`,
    escalations: wf.tierEscalations.length ? undefined : `No escalations${active ? ' so far' : ''}: no step moved up a model tier. A step moves up when its output fails the role's checks, the model judge rejects it, or a person requests changes (roles with model tiers only).`,
    approvals: wf.approvals.length ? undefined : !active
      ? `No approvals: no gate was asked before the workflow ended (${ended}).`
      : wf.steps.length === 0
        ? 'No approvals yet: a gate is asked after each step marked 🚦 posts its output, once the plan is posted; who decides and when appear here.'
        : gated.length === 0
          ? 'No approvals: no step of this plan has a gate (🚦), so the workflow runs to the end without asking anyone.'
          : `No approvals yet: the first gate is asked when ${gated[0]!.roleId} (step ${gated[0]!.position + 1} 🚦) posts its output; who decides and when appear here.`,
    violations: violations ? undefined : !ran
      ? `No constraint violations: no output has been checked${active ? ' yet' : ''}. Each role's output is checked (schema, forbidden topics, size) before it is posted; one that fails appears here with what was done about it.`
      : `No constraint violations${active ? ' so far' : ''}: every output passed its role's constraints (schema, forbidden topics, size). One that fails appears here with what was done about it.`,
  };
}

function WorkflowDetail({ wf, violations, csrf, user, notice, traceUrl, install, names = new Map(), scoped, fileMakers = [] }: { wf: LoadedWorkflow; violations: Violation[]; csrf: string; user: ConsoleEnv['Variables']['user']; notice?: string; traceUrl?: string; install?: InstallState; names?: ReadonlyMap<string, string>; scoped?: boolean; fileMakers?: string[] }) {
  const n = notice ? NOTICES[notice] : undefined;
  const active = ['running', 'awaiting_approval', 'step_failed'].includes(wf.status);
  const empty = emptyStates(wf, violations.length, fileMakers);
  const refused = wf.messages.filter((m) => m.failedAt && !m.messageTs); // posts the chat platform refused for good
  return (
    <Page title={`Workflow ${wf.id.slice(0, 8)}`} user={user} csrf={csrf} active="workflows" scoped={scoped}>
      {n && <Notice kind={n[0]} text={n[1]} />}
      {install && install.status !== 'active' && (
        <Notice kind="error" text={`Slack: Rolecall was ${install.status === 'uninstalled' ? 'uninstalled from' : 'stripped of its token in'} this workspace (${fmtDate(install.disabledAt)}). Nothing is posted in its threads until someone installs it again at /slack/install; then retry.`} />
      )}
      {refused.map((m) => <Notice kind="error" text={`Could not post in the thread (${m.kind}, ${fmtDate(m.failedAt)}): ${m.error}. Fix it (e.g. invite the app to the channel), then retry.`} />)}
      <p><b>Request:</b> {wf.requestText}</p>
      <p>Status <span class="status" id="wf-status">{wf.status}</span> · {wf.platform} channel {wf.channelId} thread {wf.threadTs} · by <Person id={wf.requestedBy} platform={wf.platform} names={names} /> · created {fmtDate(wf.createdAt)} · finished {fmtDate(wf.finishedAt)}</p>
      {active && (
        <form method="post" action={`/admin/workflows/${wf.id}/cancel`} class="inline"><CsrfField token={csrf} /><button class="danger" type="submit">Cancel workflow</button></form>
      )}
      <h2>Steps</h2>
      <Empty when={!!empty.steps} id="wf-steps">{empty.steps}</Empty>
      {wf.steps.length > 0 && <div class="table-wrap"><table id="steps">
        <thead><tr><th>#</th><th>Role</th><th>Status</th><th>Revision / runs</th><th>Started</th><th>Finished</th><th>Error</th>{traceUrl && <th>Trace</th>}<th></th></tr></thead>
        <tbody>
          {wf.steps.map((s) => {
            const shown = finalStepStatus(s.status, wf.status, rejectedGate(wf, s.id));
            const note = finalStepNote(shown, s.status, wf.status);
            return (
            <tr data-step={s.key || s.position}>
              <td>{s.position + 1}</td><td>{s.roleId}{s.gateAfter ? ' 🚦' : ''}</td><td class="status" title={note || undefined}>{shown}{note && <small class="hint"> ({note})</small>}</td><td>{s.revision} / {s.runCount + 1}</td>
              <td>{fmtDate(s.startedAt)}</td><td>{fmtDate(s.finishedAt)}</td><td>{s.error ?? ''}</td>
              {traceUrl && <td>{s.startedAt ? <a class="trace" href={traceUrl} rel="noopener noreferrer" target="_blank">trace</a> : ''}</td>}
              <td>{s.status === 'failed' && (
                <form method="post" action={`/admin/workflows/${wf.id}/retry`} class="inline"><CsrfField token={csrf} /><input type="hidden" name="stepId" value={s.id} /><button type="submit">Retry</button></form>
              )}</td>
            </tr>
            );
          })}
        </tbody>
      </table></div>}
      <h2>Files</h2>
      <Empty when={!!empty.files} id="wf-files">{empty.files}</Empty>
      {wf.files.length > 0 && <div class="table-wrap"><table id="files">
        <thead><tr><th>Shared</th><th>Name</th><th>Type</th><th>Size</th><th>Status</th><th></th></tr></thead>
        <tbody>{wf.files.map((f) => (
          <tr><td>{fmtDate(f.createdAt)}</td><td>{f.name}</td><td>{f.mime}</td><td>{fileSize(f.bytes)}</td><td>{f.status === 'skipped' ? `skipped: ${f.error ?? ''}` : f.status}</td>
            <td>{f.blobId && <a href={`/admin/workflows/${wf.id}/files/${f.id}`} download>Download</a>}</td></tr>
        ))}</tbody>
      </table></div>}
      <h2>Files made by roles</h2>
      <Empty when={!!empty.outputFiles} id="wf-output-files">{empty.outputFiles}</Empty>
      {wf.outputFiles.length > 0 && <div class="table-wrap"><table id="output-files">
        <thead><tr><th>Made</th><th>Role</th><th>Revision</th><th>Name</th><th>Size</th><th>Delivery</th><th></th></tr></thead>
        <tbody>{wf.outputFiles.map((f) => (
          <tr><td>{fmtDate(f.createdAt)}</td><td>{f.roleId}</td><td>{f.revision}</td><td>{f.name}</td><td>{fileSize(f.bytes)}</td><td>{f.delivery === 'failed' ? `failed: ${f.error ?? ''}` : f.delivery}</td>
            <td><a href={`/admin/workflows/${wf.id}/outputs/${f.id}`} download>Download</a></td></tr>
        ))}</tbody>
      </table></div>}
      <h2>Posts</h2>
      <Empty when={!!empty.posts} id="wf-posts">{empty.posts}</Empty>
      {wf.messages.length > 0 && <div class="table-wrap"><table id="posts">
        <thead><tr><th>At</th><th>Role</th><th>Kind</th><th>Text</th><th>Delivery</th></tr></thead>
        <tbody>{wf.messages.map((m) => <tr><td>{fmtDate(m.postedAt ?? m.createdAt)}</td><td>{m.roleId}</td><td>{m.kind}</td><td><pre class="output">{plainText(m.text, names)}</pre></td><td class="delivery">{m.messageTs ? 'posted' : m.error ? `not posted: ${m.error}` : 'pending'}</td></tr>)}</tbody>
      </table></div>}
      <h2>LLM calls</h2>
      <Empty when={!!empty.llmCalls} id="wf-llm-calls">{empty.llmCalls}</Empty>
      {wf.llmCalls.length > 0 && <div class="table-wrap"><table id="llm-calls">
        <thead><tr><th>At</th><th>Provider / model</th><th>Tokens (prompt + completion)</th><th>Cost (USD)</th><th>Latency (ms)</th><th>Result</th></tr></thead>
        <tbody>{wf.llmCalls.map((l) => (
          <tr><td>{fmtDate(l.createdAt)}</td><td>{l.provider} / {l.model}</td><td>{l.promptTokens} + {l.completionTokens}</td><td>{Number(l.costUsd).toFixed(6)}{l.priceUnknown ? ' ⚠ price unknown' : ''}</td><td>{l.latencyMs}</td><td>{l.ok ? 'ok' : l.error}</td></tr>
        ))}</tbody>
      </table></div>}
      <h2>Model tiers</h2>
      <Empty when={!!empty.tierRuns} id="wf-tier-runs">{empty.tierRuns}</Empty>
      {wf.tierRuns.length > 0 && <div class="table-wrap"><table id="tier-runs">
        <thead><tr><th>At</th><th>Role</th><th>Revision / run</th><th>Tier</th><th>Model</th><th>Mode</th><th>Outcome</th><th>Cost (USD)</th><th>Why</th></tr></thead>
        <tbody>{wf.tierRuns.map((r) => (
          <tr><td>{fmtDate(r.createdAt)}</td><td>{r.roleId}</td><td>{r.revision} / {r.run + 1}</td><td>{r.tier}</td><td>{r.provider} / {r.model}</td>
            <td>{r.mode === 'shadow' ? `shadow (of ${r.baseTier ?? '?'}; not posted)` : 'routed'}</td><td>{r.outcome}</td>
            <td>{Number(r.costUsd).toFixed(6)}{r.priceUnknown ? ' ⚠ price unknown' : ''}</td><td>{r.reasons}</td></tr>
        ))}</tbody>
      </table></div>}
      <h3>Escalations</h3>
      <Empty when={!!empty.escalations} id="wf-tier-escalations">{empty.escalations}</Empty>
      {wf.tierEscalations.length > 0 && <div class="table-wrap"><table id="tier-escalations">
        <thead><tr><th>At</th><th>Role</th><th>Revision</th><th>From</th><th>To</th><th>Reason</th><th>Detail</th></tr></thead>
        <tbody>{wf.tierEscalations.map((e) => (
          <tr><td>{fmtDate(e.createdAt)}</td><td>{e.roleId}</td><td>{e.revision}</td><td>{e.fromTier}</td><td>{e.toTier}</td><td>{e.reason}</td><td>{e.detail}</td></tr>
        ))}</tbody>
      </table></div>}
      <h2>Approvals</h2>
      <Empty when={!!empty.approvals} id="wf-approvals">{empty.approvals}</Empty>
      {wf.approvals.length > 0 && <div class="table-wrap"><table id="approvals">
        <thead><tr><th>Step</th><th>Revision</th><th>Status</th><th>By</th><th>Asked</th><th>Decided</th><th>Reminders</th><th>Escalated</th><th>Feedback</th></tr></thead>
        <tbody>{wf.approvals.map((a) => (
          <tr><td>{wf.steps.find((s) => s.id === a.stepId)?.roleId}</td><td>{a.revision}</td>
            <td>{a.status === 'expired' ? 'expired (nobody decided in time; workflow cancelled)' : a.status}</td><td><Person id={a.decidedBy} platform={wf.platform} names={names} /></td><td>{fmtDate(a.createdAt)}</td><td>{fmtDate(a.decidedAt)}</td>
            <td>{a.reminders ? `${a.reminders} (last ${fmtDate(a.remindedAt)})` : ''}</td><td>{a.escalatedAt ? fmtDate(a.escalatedAt) : ''}</td><td>{a.feedback ?? ''}</td></tr>
        ))}</tbody>
      </table></div>}
      <h2>Constraint violations</h2>
      <Empty when={!!empty.violations} id="wf-violations">{empty.violations}</Empty>
      {violations.length > 0 && <div class="table-wrap"><table id="violations">
        <thead><tr><th>At</th><th>Role</th><th>Kind</th><th>Action</th><th>Detail</th></tr></thead>
        <tbody>{violations.map((v) => <tr><td>{fmtDate(v.createdAt)}</td><td>{v.roleId}</td><td>{v.kind}</td><td>{v.action}</td><td>{v.detail}</td></tr>)}</tbody>
      </table></div>}
    </Page>
  );
}
