// Files out in Slack, end to end on real Redis, PostgreSQL and the Slack SDK against the local fake: the roles' files
// (the QA Tester's test cases as CSV and XLSX, the Technical Architect's diagram as Mermaid, SVG and PNG, the Project
// Manager's report as DOCX) are uploaded into the workflow's thread with files.uploadV2, stored by hash, listed and
// downloadable in the console; a diagram that cannot be rendered is said in the thread and the workflow goes on; a
// repeated delivery uploads nothing twice, nor does a job retried while its upload is in flight or after a crash
// left its files claimed (the claim's row count decides); a refused upload is said in the thread, with the console as the way to the files.
import * as XLSX from '@e965/xlsx';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { upsertAdminUser } from '../../web-admin/auth/bootstrap';
import { deliverOutputFiles, resumeOutputFiles } from '../../orchestrator/outputs';
import { adminClient } from '../support/admin-client';
import { defaultScript, roleOf } from '../support/fake-openai';
import { approvedThread } from '../support/flow';
import { startHarness, waitFor, type Harness } from '../support/harness';

let h: Harness;
beforeEach(async () => { h = await startHarness(); });
afterEach(async () => { await h.close(); });

const DIAGRAMS = [
  { title: 'Components', mermaid: 'flowchart LR\n  Browser -->|HTTPS| API[Login API]\n  API --> IdP[Okta]' },
  { title: 'Broken', mermaid: 'not a diagram at all' },
];

/** The default model, except that the architect draws two diagrams (one the renderer cannot read). */
function withDiagrams(): void {
  h.openai.script = async (req, n) => {
    const reply = await defaultScript(req, n);
    if (roleOf(req) !== 'Technical Architect' || !req.response_format || !reply.content) return reply;
    const data = JSON.parse(reply.content);
    data.design_doc.diagrams = DIAGRAMS;
    return { content: JSON.stringify(data) };
  };
}

const runWorkflow = (text: string): Promise<string> => approvedThread(h, text);

describe('files made by roles, in a Slack thread', () => {
  it('are uploaded into the thread once, stored by hash, listed in the console; an unrenderable diagram is said and the workflow goes on', async () => {
    withDiagrams();
    const threadTs = await runWorkflow('we need a login page with SSO for our customer portal');
    const wf = await waitFor(() => h.prisma.workflow.findFirst({ where: { threadTs, status: 'completed' } }), 'the completed workflow');
    const uploaded = await waitFor(() => (h.slack.uploads.length >= 7 ? h.slack.uploads : undefined), 'the uploads');
    expect(uploaded.map((u) => u.filename).sort()).toEqual(['architecture-1.mmd', 'architecture-1.png', 'architecture-1.svg', 'architecture-2.mmd', 'status-report.docx', 'test-cases.csv', 'test-cases.xlsx']);
    for (const u of uploaded) expect(u).toMatchObject({ channel: 'C_TEAM', threadTs });
    const qa = uploaded.find((u) => u.filename === 'test-cases.xlsx')!;
    expect(qa.comment).toContain('*QA Tester* attached 2 files: test-cases.csv, test-cases.xlsx');
    const rows = XLSX.utils.sheet_to_json<Record<string, string>>(XLSX.read(qa.bytes).Sheets['Test cases']!);
    expect(rows[0]!.title).toContain('QA Tester says: done');
    expect(uploaded.find((u) => u.filename === 'architecture-1.png')!.bytes.subarray(1, 4).toString()).toBe('PNG');
    // the whole uploadV2 exchange: an upload URL per file, the bytes, one completion per step that shares them
    expect(h.slack.callsTo('files.getUploadURLExternal')).toHaveLength(7);
    expect(h.slack.callsTo('files.completeUploadExternal')).toHaveLength(3);

    const note = await waitFor(() => h.threadPosts(threadTs).find((c) => /architecture-2\.svg could not be made/.test(c.params.text)), 'the note about the diagram');
    expect(note.params.username).toBe('Technical Architect');
    expect(note.params.text).toContain('the Mermaid source architecture-2.mmd is attached');

    const files = await waitFor(async () => {
      const rows = await h.prisma.outputFile.findMany({ where: { workflowId: wf.id }, orderBy: { name: 'asc' } });
      return rows.length === 7 && rows.every((f) => f.delivery === 'delivered') ? rows : undefined;
    }, 'the files recorded as delivered');
    for (const f of files) expect(uploaded.find((u) => u.id === f.deliveredRef)?.filename).toBe(f.name);
    expect(new Set(files.map((f) => f.sha256)).size).toBe(7);

    // Delivered again (a re-run job, a crash and retry): nothing is uploaded or posted twice.
    const ta = files.find((f) => f.roleId === 'technical_architect')!;
    const posts = h.threadPosts(threadTs).length;
    await deliverOutputFiles(h.runtime.deps, { kind: 'outputs', stepId: ta.stepId, revision: ta.revision });
    await h.runtime.deps.queue.enqueue({ kind: 'outputs', stepId: ta.stepId, revision: ta.revision });
    // a restart queues again only the step revisions without recorded files (here the Developer's, which had no code to attach)
    expect(await resumeOutputFiles(h.runtime.deps)).toBe(1);
    await new Promise((r) => setTimeout(r, 1000));
    expect(h.slack.uploads).toHaveLength(7);
    expect(await h.prisma.outputFile.count({ where: { workflowId: wf.id } })).toBe(7);
    expect(h.threadPosts(threadTs).filter((c) => /could not be made/.test(c.params.text))).toHaveLength(1);
    expect(h.threadPosts(threadTs).length).toBe(posts);

    // The console lists them and hands them out to signed-in users only.
    const anon = adminClient(h.runtime.app!);
    expect((await anon.get(`/admin/workflows/${wf.id}/outputs/${ta.id}`)).status).not.toBe(200);
    await upsertAdminUser(h.prisma, 'ada@example.com', 'a long enough password', 'viewer');
    const admin = adminClient(h.runtime.app!);
    expect((await admin.signIn('ada@example.com', 'a long enough password')).status).toBe(303);
    const page = await (await admin.get(`/admin/workflows/${wf.id}`)).text();
    expect(page).toContain('Files made by roles');
    expect(page).toContain('status-report.docx');
    const docx = files.find((f) => f.name === 'status-report.docx')!;
    const res = await admin.get(`/admin/workflows/${wf.id}/outputs/${docx.id}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toContain('attachment; filename="status-report.docx"');
    expect(Buffer.from(await res.arrayBuffer()).subarray(0, 2).toString()).toBe('PK');
  });

  it('a job retried while its upload is still in flight, or after a crash left the files claimed, uploads nothing twice', async () => {
    // Slack holds the first completion (429, Retry-After): the upload is in flight when the job is retried (as after
    // a lost job lock or a timeout), and the retry must see the files claimed and leave them alone.
    h.slack.failHttp('files.completeUploadExternal', 1, 429, 8);
    const threadTs = await runWorkflow('add an export of invoices as CSV');
    await waitFor(() => h.slack.callsTo('files.completeUploadExternal').find((c) => c.response?.httpStatus === 429), 'the held completion');
    const inFlight = await waitFor(() => h.prisma.outputFile.findFirst({ where: { delivery: 'delivering' } }), 'files claimed by the first run');
    const claimed = (await h.prisma.outputFile.findMany({ where: { stepId: inFlight.stepId, revision: inFlight.revision } })).map((f) => f.name);
    const urlsFor = () => h.slack.callsTo('files.getUploadURLExternal').filter((c) => claimed.includes(String(c.params.filename))).length;
    const urls = urlsFor();
    await deliverOutputFiles(h.runtime.deps, { kind: 'outputs', stepId: inFlight.stepId, revision: inFlight.revision });
    expect(urlsFor()).toBe(urls); // the retry asked for no upload URL of its files

    await waitFor(() => h.prisma.workflow.findFirst({ where: { threadTs, status: 'completed' } }), 'the completed workflow');
    const rows = await waitFor(async () => {
      const all = await h.prisma.outputFile.findMany({ where: { workflow: { threadTs } } });
      return all.length && all.every((f) => f.delivery === 'delivered') ? all : undefined;
    }, 'every file delivered');
    const names = h.slack.uploads.filter((u) => u.threadTs === threadTs).map((u) => u.filename).sort();
    expect(names).toEqual(rows.map((r) => r.name).sort()); // each file once
    expect(rows.find((r) => r.id === inFlight.id)?.delivery).toBe('delivered'); // the first run finished its upload

    // A crash after the claim (before the rows were marked delivered) leaves them claimed: the job run again — as the
    // queue and a restart do — uploads nothing and posts nothing more.
    const qa = rows.filter((r) => r.roleId === 'qa_tester');
    expect(qa.length).toBeGreaterThan(0);
    await h.prisma.outputFile.updateMany({ where: { id: { in: qa.map((r) => r.id) } }, data: { delivery: 'delivering' } });
    const uploads = h.slack.uploads.length;
    const posts = h.threadPosts(threadTs).length;
    await deliverOutputFiles(h.runtime.deps, { kind: 'outputs', stepId: qa[0]!.stepId, revision: qa[0]!.revision });
    await deliverOutputFiles(h.runtime.deps, { kind: 'outputs', stepId: qa[0]!.stepId, revision: qa[0]!.revision });
    await new Promise((r) => setTimeout(r, 1000));
    expect(h.slack.uploads).toHaveLength(uploads);
    expect(h.threadPosts(threadTs)).toHaveLength(posts);
    expect(await h.prisma.outputFile.count({ where: { workflow: { threadTs } } })).toBe(rows.length);
  });

  it('says so in the thread when Slack refuses the upload, and points to the console; the workflow still completes', async () => {
    h.slack.failNext('files.getUploadURLExternal', 'not_allowed_token_type', 100);
    const threadTs = await runWorkflow('add an export of invoices as CSV');
    await waitFor(() => h.prisma.workflow.findFirst({ where: { threadTs, status: 'completed' } }), 'the completed workflow');
    const note = await waitFor(() => h.threadPosts(threadTs).find((c) => c.params.username === 'QA Tester' && /could not be uploaded/.test(c.params.text)), 'the QA note');
    expect(note.params.text).toContain('not_allowed_token_type');
    expect(note.params.text).toContain('test-cases.csv');
    expect(note.params.text).toContain('Rolecall console');
    await waitFor(async () => (await h.prisma.outputFile.count({ where: { delivery: 'failed' } })) === 3, 'the files marked failed');
    expect(h.slack.uploads).toHaveLength(0);
  });
});
