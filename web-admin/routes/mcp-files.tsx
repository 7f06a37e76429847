// Files given to MCP run_task (issue 15): listed and downloadable in the console like a workflow's shared files. A
// run_task call runs no workflow and belongs to no workspace, so (fail closed) only console users who see every
// workspace reach these pages: a workspace-bound user gets 403 from workspaceScope (the path is not a scoped one).
// Invariants: only sharings of platform "mcp" are listed or served; a download is always opaque bytes (never rendered).
import { downloadHeaders } from '../views/download';
import type { Hono } from 'hono';
import { z } from 'zod';
import type { ConsoleDeps, ConsoleEnv } from '../context';
import { fmtDate, Page } from '../views/layout';

const fileParam = z.object({ fileId: z.string().uuid() });
/** A file name for the plain filename= parameter: printable ASCII without quotes or backslashes. */
const fileSize = (n: number) => (n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${Math.round(n / 1024)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`);
/** source = mcp:<API key prefix>:<role>:<call id>:<n> (orchestrator/files.ts runTaskFileIntake). */
const sourceParts = (source: string) => {
  const [, key = '', role = '', call = ''] = source.split(':');
  return { key, role, call };
};

const listFiles = (deps: ConsoleDeps) =>
  deps.prisma.sharedFile.findMany({
    where: { platform: 'mcp' }, orderBy: { createdAt: 'desc' }, take: 200,
    select: { id: true, name: true, mime: true, bytes: true, status: true, error: true, source: true, createdAt: true, blobId: true },
  });

export function mountMcpFiles(app: Hono<ConsoleEnv>, deps: ConsoleDeps): void {
  app.get('/admin/api/mcp-files', async (c) => c.json((await listFiles(deps)).map(({ source, ...f }) => ({ ...f, ...sourceParts(source) }))));

  app.get('/admin/mcp-files', async (c) => {
    const rows = await listFiles(deps);
    return c.html(
      <Page title="Files given to run_task" user={c.get('user')} csrf={c.get('session').csrf} scoped={!!c.get('workspaces')}>
        <p>Files that MCP clients gave to a role's <code>run_task</code>, stored and read like files shared in a thread (newest 200).</p>
        <table id="mcp-files">
          <thead><tr><th>Given</th><th>Name</th><th>Role</th><th>API key</th><th>Type</th><th>Size</th><th>Status</th><th></th></tr></thead>
          <tbody>{rows.map((f) => {
            const s = sourceParts(f.source);
            return (
              <tr><td>{fmtDate(f.createdAt)}</td><td>{f.name}</td><td>{s.role}</td><td>{s.key}…</td><td>{f.mime}</td><td>{fileSize(f.bytes)}</td>
                <td>{f.status === 'skipped' ? `skipped: ${f.error ?? ''}` : f.status}</td>
                <td>{f.blobId && <a href={`/admin/mcp-files/${f.id}`} download>Download</a>}</td></tr>
            );
          })}</tbody>
        </table>
      </Page>,
    );
  });

  app.get('/admin/mcp-files/:fileId', async (c) => {
    const p = fileParam.safeParse(c.req.param());
    if (!p.success) return c.text('Not found', 404);
    const file = await deps.prisma.sharedFile.findFirst({ where: { id: p.data.fileId, platform: 'mcp', blobId: { not: null } } });
    const bytes = file && deps.files ? await deps.files.get(file.sha256) : undefined;
    if (!file || !bytes) return c.text('Not found', 404);
    return c.body(Buffer.from(bytes), 200, downloadHeaders(file.name));
  });
}
