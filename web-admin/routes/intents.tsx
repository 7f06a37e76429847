// Labelled intent examples (admins and owners): the clarifying questions Rolecall asked when it was unsure which
// workflow a message wanted, with the person's answer. An admin accepts an example (keeping or correcting its label:
// a template, or `none` for small talk) or rejects it; accepted examples train the intent classifier (this process
// retrains at once, worker processes before their next decision). Every review is audited.
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import type { IntentExample } from '../../generated/prisma/client';
import { audit } from '../../orchestrator/audit';
import { requireCsrfToken, requireRole } from '../auth/guard';
import { consoleActor, type ConsoleDeps, type ConsoleEnv } from '../context';
import { CsrfField, fmtDate, Empty, Notice, Page } from '../views/layout';
import { loadNames, Person } from '../views/people';

const PAGE_SIZE = 200;
const idSchema = z.string().uuid();
const filterSchema = z.enum(['pending', 'accepted', 'rejected', 'all']).catch('pending');
const acceptSchema = z.object({ label: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/) });

/** The labels an admin may give: the templates and `none` (small talk). */
const labelsOf = (deps: ConsoleDeps) => deps.intents?.labels ?? [];

export function mountIntents(app: Hono<ConsoleEnv>, deps: ConsoleDeps): void {
  for (const p of ['/admin/intents', '/admin/intents/*', '/admin/api/intents']) app.use(p, requireRole('admin'));
  app.get('/admin/intents', async (c) => c.html(await intentsPage(c, deps)));
  app.get('/admin/api/intents', async (c) => c.json(await listExamples(deps, filterSchema.parse(c.req.query('review')))));

  app.post('/admin/intents/:id/accept', requireCsrfToken(), async (c) => {
    const id = idSchema.safeParse(c.req.param('id'));
    const body = acceptSchema.safeParse(await c.req.parseBody());
    const ex = id.success ? await deps.prisma.intentExample.findUnique({ where: { id: id.data } }) : null;
    if (!ex) return c.html(await intentsPage(c, deps, 'Unknown example.'), 404);
    if (!body.success || !labelsOf(deps).some((l) => l.id === body.data.label)) return c.html(await intentsPage(c, deps, 'Choose a workflow template or "none" as the label.'), 400);
    await deps.prisma.intentExample.update({ where: { id: ex.id }, data: { label: body.data.label, review: 'accepted', reviewedBy: consoleActor(c.get('user')), reviewedAt: new Date() } });
    await audit(deps.prisma, { actor: consoleActor(c.get('user')), action: 'intent_example.accepted', target: ex.id, detail: { label: body.data.label, answered: ex.label, text: ex.text.slice(0, 200) } });
    await deps.intents?.refresh();
    return c.redirect('/admin/intents?done=accepted', 303);
  });

  app.post('/admin/intents/:id/reject', requireCsrfToken(), async (c) => {
    const id = idSchema.safeParse(c.req.param('id'));
    const ex = id.success ? await deps.prisma.intentExample.findUnique({ where: { id: id.data } }) : null;
    if (!ex) return c.html(await intentsPage(c, deps, 'Unknown example.'), 404);
    await deps.prisma.intentExample.update({ where: { id: ex.id }, data: { review: 'rejected', reviewedBy: consoleActor(c.get('user')), reviewedAt: new Date() } });
    await audit(deps.prisma, { actor: consoleActor(c.get('user')), action: 'intent_example.rejected', target: ex.id, detail: { answered: ex.label, text: ex.text.slice(0, 200) } });
    await deps.intents?.refresh();
    return c.redirect('/admin/intents?done=rejected', 303);
  });
}

async function listExamples(deps: ConsoleDeps, review: z.infer<typeof filterSchema>): Promise<IntentExample[]> {
  return deps.prisma.intentExample.findMany({ where: review === 'all' ? {} : { review }, orderBy: { createdAt: 'desc' }, take: PAGE_SIZE });
}

async function intentsPage(c: Context<ConsoleEnv>, deps: ConsoleDeps, error?: string) {
  const review = filterSchema.parse(c.req.query('review'));
  const rows = await listExamples(deps, review);
  const names = await loadNames(deps.prisma, rows.map((ex) => (ex.labelledBy ? `${ex.platform}:${ex.labelledBy}` : null)));
  const csrf = c.get('session').csrf;
  const labels = labelsOf(deps);
  const nameOf = (id: string | null) => (id === null ? '—' : id === 'other' ? 'something else' : labels.find((l) => l.id === id)?.name ?? id);
  const done = c.req.query('done');
  return (
    <Page title="Intent examples" user={c.get('user')} csrf={csrf} active="intents">
      <Notice kind="error" text={error} />
      {done === 'accepted' && <Notice kind="ok" text="Example accepted: the intent classifier learns from it now." />}
      {done === 'rejected' && <Notice kind="ok" text="Example rejected: it is not used for training." />}
      <p>When Rolecall is unsure which workflow a message asks for, it asks with the likeliest workflows as buttons. The
        answers are listed here. Accept an example (correct its label if needed; <em>none</em> is small talk) to add it to
        the intent classifier's training data, or reject it. Measure the effect with <code>npm run intents:eval</code>.</p>
      <nav class="filters">
        {(['pending', 'accepted', 'rejected', 'all'] as const).map((r) => <a href={`/admin/intents?review=${r}`} class={r === review ? 'active' : ''}>{r}</a>)}
      </nav>
      <div class="table-wrap"><table id="intent-examples">
        <thead><tr><th>Asked</th><th>Message</th><th>Offered</th><th>Classifier guess</th><th>Answer</th><th>Review</th><th></th></tr></thead>
        <tbody>
          {rows.map((ex) => (
            <tr data-id={ex.id}>
              <td>{fmtDate(ex.createdAt)}<br /><small>{ex.platform}{ex.language ? ` · ${ex.language}` : ''}</small></td>
              <td class="message">{ex.text.length > 500 ? `${ex.text.slice(0, 499)}…` : ex.text}</td>
              <td>{ex.candidates.map(nameOf).join(', ')}</td>
              <td>{ex.guess ?? '—'}{ex.confidence !== null ? ` (${ex.confidence.toFixed(2)})` : ''}</td>
              <td>{ex.label ? <>{nameOf(ex.label)} (<Person id={ex.labelledBy} platform={ex.platform} names={names} />)</> : 'no answer yet'}</td>
              <td>{ex.review}{ex.reviewedBy ? <><br /><small>{ex.reviewedBy.replace(/^console:/, '')}, {fmtDate(ex.reviewedAt)}</small></> : null}</td>
              <td>
                <form method="post" action={`/admin/intents/${ex.id}/accept`}>
                  <CsrfField token={csrf} />
                  <select name="label" aria-label="Label">
                    {labels.map((l) => <option value={l.id} selected={l.id === (ex.label && ex.label !== 'other' ? ex.label : ex.guess)}>{l.name}</option>)}
                  </select>
                  <button type="submit">Accept</button>
                </form>
                {ex.review !== 'rejected' && (
                  <form method="post" action={`/admin/intents/${ex.id}/reject`}>
                    <CsrfField token={csrf} />
                    <button type="submit" class="danger">Reject</button>
                  </form>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table></div>
      <Empty when={!rows.length} id="intent-examples">No {review === 'all' ? '' : `${review} `}examples{review === 'pending' ? ' to review' : ''}. Examples appear when Rolecall is unsure which workflow a message asks for and the person picks one{review !== 'all' ? <> — or see <a href="/admin/intents?review=all">every example</a></> : ''}.</Empty>
    </Page>
  );
}
