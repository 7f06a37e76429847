// Experiments in the console: the list (and the repository's experiments/*.yaml to import as drafts), a definition
// editor (YAML, validated by the same zod schema as the files), each experiment's results per arm with the statistics
// (fixed horizon: the decision is offered only once the planned sample size is reached), Start and Stop (Stop rolls
// the chosen arm out through the role editor's audited path), and insights from history that start a draft in one click.
// Invariants: viewers may look, admins change (CSRF token checked); every input is zod-parsed and bounded; every value
// is rendered through JSX (escaped); assignments are shown here only, never in a thread.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Context, Hono } from 'hono';
import type { Child } from 'hono/jsx';
import { z } from 'zod';
import { analyse, METRIC_LABEL, outcomesOf, type Analysis, type MetricResult } from '../../orchestrator/experiments/analysis';
import { ExperimentDefinitionError, experimentSchema, loadExperimentFiles } from '../../orchestrator/experiments/definition';
import { insights } from '../../orchestrator/experiments/insights';
import { ExperimentStateError, RolloutError, saveDraft, startExperiment, stopExperiment } from '../../orchestrator/experiments/rollout';
import { requireCsrfToken, requireRole } from '../auth/guard';
import { consoleActor, type ConsoleDeps, type ConsoleEnv } from '../context';
import { CsrfField, fmtDate, Empty, Notice, Page } from '../views/layout';

const idParam = z.object({ id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/) });
const yamlForm = z.object({ yaml: z.string().min(1).max(100_000) });
const importForm = z.object({ file: z.string().regex(/^[\w.-]{1,100}\.ya?ml$/) });
const stopForm = z.object({ winner: z.string().max(63).default('') });

const fmt = (v: number | null | undefined, digits = 3) => (v == null ? '—' : Number.isInteger(v) ? String(v) : v.toFixed(digits));
const STARTER = `id: my-experiment
name: What this tests
eligibility: { templates: [requirements_only], channels: [], workspaces: [] }
arms:
  - { id: control, weight: 50 }
  - id: treatment
    weight: 50
    template: { gates: { requirements: false } }
primary_metric: completion        # completion | approval_unchanged | satisfaction | cost_per_completed | time_to_completion
guardrails: [satisfaction]
design: { alpha: 0.05, power: 0.8, min_detectable_effect: 0.1, baseline: 0.5 }
`;

export function mountExperiments(app: Hono<ConsoleEnv>, deps: ConsoleDeps): void {
  const canEdit = (c: Context<ConsoleEnv>) => ['owner', 'admin'].includes(c.get('user').role);
  const page = (c: Context<ConsoleEnv>, title: string, body: Child, status: 200 | 400 | 404 | 409 | 422 = 200) =>
    c.html(<Page title={title} user={c.get('user')} csrf={c.get('session').csrf} active="experiments">{body}</Page>, status);

  const listPage = async (c: Context<ConsoleEnv>, notice?: { kind: 'ok' | 'error'; text: string }, draft = STARTER) => {
    const rows = await deps.prisma.experiment.findMany({ orderBy: { createdAt: 'desc' }, take: 200, include: { _count: { select: { assignments: true } } } });
    const known = new Set(rows.map((r) => r.id));
    const files = loadExperimentFiles().filter((f) => !f.def || !known.has(f.def.id));
    return page(c, 'Experiments', <>
      {notice && <Notice kind={notice.kind} text={notice.text} />}
      <p>A/B tests on real threads: each eligible thread gets an arm (sticky: a hash of the experiment and the thread), recorded on its workflow and shown only here. <a href="/admin/experiments/insights">Insights and recommendations</a></p>
      <div class="table-wrap"><table id="experiments">
        <thead><tr><th>Experiment</th><th>Status</th><th>Arms</th><th>Primary metric</th><th>Workflows</th><th>Planned / arm</th><th>Started</th></tr></thead>
        <tbody>{rows.map((r) => {
          const def = experimentSchema.safeParse(r.definition);
          return (
            <tr data-experiment={r.id}>
              <td><a href={`/admin/experiments/${r.id}`}>{r.name}</a> <code>{r.id}</code></td><td class="status">{r.status}{r.winner ? ` (winner: ${r.winner})` : ''}</td>
              <td>{def.success ? def.data.arms.map((a) => `${a.id} ${a.weight}`).join(' / ') : 'invalid'}</td>
              <td>{def.success ? METRIC_LABEL[def.data.primary_metric] : '—'}</td><td>{r._count.assignments}</td><td>{r.plannedPerArm ?? '—'}</td><td>{fmtDate(r.startedAt)}</td>
            </tr>
          );
        })}</tbody>
      </table></div>
      <Empty when={rows.length === 0} id="experiments">No experiments yet — {files.length > 0 ? 'import one of the examples below as a draft' : 'write one below'}, start it, and threads get an arm each. <a href="/admin/experiments/insights">Insights</a> suggests what to test.</Empty>
      {files.length > 0 && <>
        <h2>In the repository (experiments/*.yaml)</h2>
        <ul id="experiment-files">{files.map((f) => (
          <li>{f.file}: {f.error ? <span class="error">{f.error}</span> : <>{f.def!.name} {canEdit(c) && (
            <form method="post" action="/admin/experiments/import" class="inline"><CsrfField token={c.get('session').csrf} /><input type="hidden" name="file" value={f.file} /><button type="submit">Import as draft</button></form>
          )}</>}</li>
        ))}</ul>
      </>}
      {canEdit(c) && <>
        <h2>New experiment</h2>
        <form method="post" action="/admin/experiments">
          <CsrfField token={c.get('session').csrf} />
          <textarea name="yaml" id="yaml" spellcheck={false}>{draft}</textarea>
          <p><button type="submit">Validate and save draft</button></p>
        </form>
      </>}
    </>);
  };

  app.get('/admin/experiments', (c) => listPage(c));

  app.post('/admin/experiments', requireRole('admin'), requireCsrfToken(), async (c) => {
    const body = yamlForm.safeParse(await c.req.parseBody());
    if (!body.success) return listPage(c, { kind: 'error', text: 'The YAML is empty or too long.' });
    const yaml = body.data.yaml.replace(/\r\n/g, '\n');
    try {
      const def = await saveDraft(deps.prisma, yaml, consoleActor(c.get('user')));
      return c.redirect(`/admin/experiments/${def.id}?saved=1`, 303);
    } catch (e) {
      if (!(e instanceof ExperimentDefinitionError || e instanceof ExperimentStateError)) throw e;
      return listPage(c, { kind: 'error', text: e.message }, yaml);
    }
  });

  app.post('/admin/experiments/import', requireRole('admin'), requireCsrfToken(), async (c) => {
    const body = importForm.safeParse(await c.req.parseBody());
    const file = body.success ? loadExperimentFiles().find((f) => f.file === body.data.file && f.def) : undefined;
    if (!file) return listPage(c, { kind: 'error', text: 'No valid experiment file of that name.' });
    try {
      await saveDraft(deps.prisma, file.yaml, consoleActor(c.get('user')));
    } catch (e) {
      if (!(e instanceof ExperimentStateError)) throw e;
      return listPage(c, { kind: 'error', text: e.message });
    }
    return c.redirect(`/admin/experiments/${file.def!.id}?saved=1`, 303);
  });

  app.get('/admin/experiments/insights', async (c) => {
    const found = await insights(deps.prisma);
    return page(c, 'Experiment insights', <>
      <p>From the last 90 days of steps, approvals, model calls and votes (since {fmtDate(found.since)}). A recommendation needs at least 5 decisions behind it.</p>
      <Empty when={found.recommendations.length === 0} id="recommendations">Not enough history yet for a recommendation — each needs 5 decisions; run workflows (for example in the <a href="/admin/playground">Playground</a>) and decide their gates.</Empty>
      <ol id="recommendations">{found.recommendations.map((r) => (
        <li data-kind={r.kind}>
          <strong>{r.title}</strong>
          <div>Evidence: {r.evidence.count} of {r.evidence.of} · <a href={`/admin/workflows?role=${encodeURIComponent(r.roleId)}`}>workflows with {r.roleId}</a>
            {r.evidence.workflows.map((w) => <> · <a href={`/admin/workflows/${w}`}>{w.slice(0, 8)}</a></>)}</div>
          {r.evidence.themes && r.evidence.themes.length > 0 && <div class="themes">Feedback themes: {r.evidence.themes.map((t) => `${t.word} (${t.count})`).join(', ')}</div>}
          {r.experiment && canEdit(c) && (
            <form method="post" action="/admin/experiments" class="inline"><CsrfField token={c.get('session').csrf} /><input type="hidden" name="yaml" value={r.experiment} /><button type="submit">Start an experiment (draft)</button></form>
          )}
        </li>
      ))}</ol>
      <h2>Busiest hours (UTC)</h2>
      <div class="table-wrap"><table id="hours"><thead><tr><th>Hour</th><th>Workflows</th></tr></thead>
        <tbody>{found.busiestHours.map((h) => <tr><td>{String(h.hour).padStart(2, '0')}:00</td><td>{h.workflows}</td></tr>)}</tbody></table></div>
      <Empty when={found.busiestHours.length === 0} id="hours">No workflows in the last 90 days.</Empty>
    </>);
  });

  const load = async (id: string) => {
    const row = await deps.prisma.experiment.findUnique({ where: { id } });
    if (!row) return undefined;
    const def = experimentSchema.parse(row.definition);
    const planned = row.plannedPerArm ?? 0;
    const analysis = row.status === 'draft' ? undefined : analyse(def, await outcomesOf(deps.prisma, id), planned);
    return { row, def, analysis };
  };

  app.get('/admin/api/experiments/:id', async (c) => {
    const p = idParam.safeParse(c.req.param());
    const found = p.success ? await load(p.data.id) : undefined;
    if (!found) return c.json({ error: 'not_found' }, 404);
    return c.json({ id: found.row.id, status: found.row.status, winner: found.row.winner, plannedPerArm: found.row.plannedPerArm, definition: found.def, analysis: found.analysis ?? null });
  });

  const detail = async (c: Context<ConsoleEnv>, id: string, notice?: { kind: 'ok' | 'error'; text: string }, status: 200 | 409 | 422 = 200) => {
    const found = await load(id);
    if (!found) return page(c, 'Unknown experiment', <p>No such experiment.</p>, 404);
    const { row, def, analysis } = found;
    const recent = await deps.prisma.experimentAssignment.findMany({ where: { experimentId: id }, orderBy: { createdAt: 'desc' }, take: 20, include: { workflow: { select: { status: true, template: true } } } });
    return page(c, `Experiment ${def.name}`, <>
      {notice && <Notice kind={notice.kind} text={notice.text} />}
      <p>Status <strong id="status">{row.status}</strong>{row.winner && <> · winner <strong>{row.winner}</strong></>} · eligible: templates {def.eligibility.templates.join(', ') || 'any'}, channels {def.eligibility.channels.join(', ') || 'any'}, workspaces {def.eligibility.workspaces.join(', ') || 'any'}</p>
      <p class="hint">Fixed-horizon design: the sample size per arm is planned at the start (alpha {def.design.alpha}, power {def.design.power}, minimum detectable effect {def.design.min_detectable_effect}). Results are shown as they arrive, but a decision is offered only once every arm has reached the planned size — stopping early on a lucky p-value would overstate the effect.</p>
      {analysis && <Results def={def} a={analysis} />}
      {row.status === 'draft' && canEdit(c) && (
        <form method="post" action={`/admin/experiments/${id}/start`}><CsrfField token={c.get('session').csrf} /><button type="submit" id="start">Start</button></form>
      )}
      {row.status === 'running' && canEdit(c) && (
        <form method="post" action={`/admin/experiments/${id}/stop`} id="stop-form">
          <CsrfField token={c.get('session').csrf} />
          <label>Roll out <select name="winner">
            {analysis?.decision?.winner && <option value={analysis.decision.winner}>{analysis.decision.winner} (recommended)</option>}
            <option value="">nothing: keep the control</option>
            {def.arms.slice(1).filter((a) => a.id !== analysis?.decision?.winner).map((a) => <option value={a.id}>{a.id}</option>)}
          </select></label> <button type="submit" id="stop">Stop experiment</button>
        </form>
      )}
      <h2>Definition</h2>
      <pre id="definition">{row.yaml}</pre>
      <h2>Latest assignments</h2>
      <div class="table-wrap"><table id="assignments"><thead><tr><th>Workflow</th><th>Arm</th><th>Template</th><th>Status</th><th>Assigned</th></tr></thead>
        <tbody>{recent.map((a) => <tr><td><a href={`/admin/workflows/${a.workflowId}`}>{a.workflowId.slice(0, 8)}</a></td><td>{a.arm}</td><td>{a.workflow.template}</td><td>{a.workflow.status}</td><td>{fmtDate(a.createdAt)}</td></tr>)}</tbody></table></div>
      <Empty when={recent.length === 0} id="assignments">No thread assigned yet{row.status === 'running' ? ': the next eligible request gets an arm.' : row.status === 'draft' ? ': start the experiment, then eligible requests get an arm.' : '.'}</Empty>
    </>, status);
  };

  app.get('/admin/experiments/:id', async (c) => {
    const p = idParam.safeParse(c.req.param());
    if (!p.success) return page(c, 'Unknown experiment', <p>No such experiment.</p>, 404);
    return detail(c, p.data.id, c.req.query('saved') ? { kind: 'ok', text: 'Saved.' } : c.req.query('done') ? { kind: 'ok', text: c.req.query('done')!.slice(0, 500) } : undefined);
  });

  app.post('/admin/experiments/:id/start', requireRole('admin'), requireCsrfToken(), async (c) => {
    const p = idParam.safeParse(c.req.param());
    if (!p.success) return c.text('Unknown experiment', 404);
    try {
      const planned = await startExperiment(deps.prisma, p.data.id, consoleActor(c.get('user')));
      return c.redirect(`/admin/experiments/${p.data.id}?done=${encodeURIComponent(`Started: ${planned} workflows per arm planned.`)}`, 303);
    } catch (e) {
      if (!(e instanceof ExperimentStateError)) throw e;
      return detail(c, p.data.id, { kind: 'error', text: e.message }, 409);
    }
  });

  app.post('/admin/experiments/:id/stop', requireRole('admin'), requireCsrfToken(), async (c) => {
    const p = idParam.safeParse(c.req.param());
    const body = stopForm.safeParse(await c.req.parseBody());
    if (!p.success || !body.success) return c.text('Bad request', 400);
    try {
      const done = await stopExperiment({
        prisma: deps.prisma, roles: deps.roles, roleStore: deps.roleStore,
        roleFileYaml: (roleId) => readFileSync(path.join(deps.rolesDir, `${roleId}.yaml`), 'utf8'),
        ...(deps.templatesDir ? { templatesDir: deps.templatesDir } : {}),
      }, p.data.id, body.data.winner || undefined, consoleActor(c.get('user')));
      return c.redirect(`/admin/experiments/${p.data.id}?done=${encodeURIComponent(`Stopped: ${done}.`)}`, 303);
    } catch (e) {
      if (e instanceof ExperimentStateError) return detail(c, p.data.id, { kind: 'error', text: e.message }, 409);
      if (e instanceof RolloutError) return detail(c, p.data.id, { kind: 'error', text: e.message }, 422);
      throw e;
    }
  });
}

function Results({ def, a }: { def: ReturnType<typeof experimentSchema.parse>; a: Analysis }) {
  return <>
    <p id="progress">{a.enoughData
      ? <>The planned sample size ({a.plannedPerArm} per arm) is reached. <strong id="decision">{a.decision?.winner ? `Recommendation: roll out ${a.decision.winner}` : 'Recommendation: keep the control'}</strong> — {a.decision?.reason}</>
      : <strong id="not-enough">Not enough data yet: {a.stillNeeded} more workflows needed in the arm furthest behind (planned {a.plannedPerArm} per arm; so far {Object.entries(a.observed).map(([k, v]) => `${k} ${v}`).join(', ')}). No decision before then.</strong>}</p>
    <MetricTable m={a.primary} title={`Primary: ${METRIC_LABEL[def.primary_metric]}`} alpha={def.design.alpha} />
    {a.guardrails.map((g) => <MetricTable m={g} title={`Guard-rail: ${METRIC_LABEL[g.metric]}`} alpha={def.design.alpha} />)}
  </>;
}

function MetricTable({ m, title, alpha }: { m: MetricResult; title: string; alpha: number }) {
  return <>
    <h2>{title} <small>({m.test}{m.test === 'Mann-Whitney U' ? ', medians, bootstrap interval' : ''})</small></h2>
    <div class="table-wrap"><table class="metric" data-metric={m.metric}>
      <thead><tr><th>Arm</th><th>n</th><th>Value</th><th>Difference vs control</th><th>{Math.round((1 - alpha) * 100)} % interval</th><th>p</th></tr></thead>
      <tbody>{m.arms.map((arm, i) => {
        const v = i === 0 ? undefined : m.vsControl[i - 1];
        return <tr data-arm={arm.arm}><td>{arm.arm}{i === 0 ? ' (control)' : ''}</td><td>{arm.n}</td><td>{fmt(arm.value)}</td>
          <td>{v ? fmt(v.diff) : ''}</td><td>{v?.ci ? `${fmt(v.ci[0])} … ${fmt(v.ci[1])}` : ''}</td><td>{v ? `${fmt(v.pValue, 4)}${v.significant ? ' *' : ''}` : ''}</td></tr>;
      })}</tbody>
    </table></div>
  </>;
}
