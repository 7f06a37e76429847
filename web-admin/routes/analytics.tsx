// The analytics page (charts drawn from /admin/api/analytics/<chart>) and the JSON API behind every chart.
import type { Hono } from 'hono';
import { z } from 'zod';
import { CHART_NAMES, chartSpec, type ChartName } from '../analytics/charts';
import * as q from '../analytics/queries';
import type { ConsoleDeps, ConsoleEnv } from '../context';
import { Empty, Page } from '../views/layout';
import { RANGES, rangeSchema, sinceOf } from './range';
import { RangeFilter } from './range-filter';

const CHART_TITLES: Record<ChartName, string> = {
  completion: 'Workflow completion',
  'step-latency': 'Step latency p50 / p95 per role (s)',
  'cost-role': 'Cost per role (USD)',
  'cost-workflow': 'Cost per workflow (USD)',
  'cost-day': 'Cost per day (USD)',
  intervention: 'Human intervention rate (%)',
  'approval-wait': 'Approval wait p50 / p95 (s)',
  satisfaction: 'Satisfaction',
  violations: 'Constraint violations by role',
};

const chartParam = z.object({ chart: z.enum(CHART_NAMES as [ChartName, ...ChartName[]]) });

export function mountAnalytics(app: Hono<ConsoleEnv>, deps: ConsoleDeps): void {
  app.get('/admin', async (c) => {
    const days = rangeSchema.catch('30').parse(c.req.query('days'));
    const since = sinceOf(days);
    const [comp, sat] = await Promise.all([q.completion(deps.prisma, since), q.satisfaction(deps.prisma, since)]);
    return c.html(
      <Page title="Analytics" user={c.get('user')} csrf={c.get('session').csrf} active="analytics" scripts={['/admin/assets/chart.umd.min.js', '/admin/assets/charts.js']}>
        <RangeFilter days={days} action="/admin" />
        <div class="kpis">
          <div class="kpi" data-kpi="workflows">Workflows<b>{comp.total}</b></div>
          <div class="kpi" data-kpi="completion-rate">Completion rate<b>{comp.rate === null ? '—' : `${Math.round(comp.rate * 100)}%`}</b></div>
          <div class="kpi" data-kpi="satisfaction">Satisfaction<b>{sat.up + sat.down ? `${sat.up} up / ${sat.down} down` : '—'}</b></div>
        </div>
        <Empty when={comp.total === 0} id="analytics">No workflows in this range yet — try one in the <a href="/admin/playground">Playground</a> (no Slack or Teams needed); these charts fill in as workflows run.</Empty>
        <div class="grid">
          {CHART_NAMES.map((name) => (
            <section class="card">
              <h2>{CHART_TITLES[name]}</h2>
              <div class="chart"><canvas data-chart={`/admin/api/analytics/${name}?days=${days}`} aria-label={CHART_TITLES[name]}></canvas></div>
              <p><a href={`/admin/api/analytics/${name}?days=${days}`}>JSON</a></p>
            </section>
          ))}
        </div>
      </Page>,
    );
  });

  app.get('/admin/api/analytics', async (c) => {
    const days = rangeSchema.safeParse(c.req.query('days'));
    if (!days.success) return c.json({ error: 'bad_request', message: `days must be one of ${Object.keys(RANGES).join(', ')}` }, 400);
    const since = sinceOf(days.data);
    const [completion, stepLatency, approvalWait, intervention, satisfaction, violations] = await Promise.all([
      q.completion(deps.prisma, since), q.stepLatency(deps.prisma, since), q.approvalWait(deps.prisma, since),
      q.intervention(deps.prisma, since), q.satisfaction(deps.prisma, since), q.violations(deps.prisma, since),
    ]);
    const [costRole, costWorkflow, costDay] = await Promise.all((['role', 'workflow', 'day'] as const).map((by) => q.costBy(deps.prisma, since, by)));
    return c.json({ since, completion, stepLatency, approvalWait, intervention, satisfaction, violations, cost: { role: costRole, workflow: costWorkflow, day: costDay } });
  });

  app.get('/admin/api/analytics/:chart', async (c) => {
    const param = chartParam.safeParse(c.req.param());
    if (!param.success) return c.json({ error: 'not_found', message: `charts: ${CHART_NAMES.join(', ')}` }, 404);
    const days = rangeSchema.safeParse(c.req.query('days'));
    if (!days.success) return c.json({ error: 'bad_request', message: `days must be one of ${Object.keys(RANGES).join(', ')}` }, 400);
    return c.json(await chartSpec(deps.prisma, param.data.chart, sinceOf(days.data)));
  });
}
