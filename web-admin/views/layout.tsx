// The console's page frame: navigation, the signed-in user and the sign-out form.
import type { Child } from 'hono/jsx';
import type { AdminUser, RbacRole } from '../../generated/prisma/client';
import { atLeast } from '../../orchestrator/permissions';

export interface PageProps {
  title: string;
  user?: AdminUser;
  csrf?: string;
  active?: string;
  children?: Child;
  scripts?: string[];
  /** The user is bound to workspaces (web-admin/auth/workspaces.ts): only the pages they may open are linked. */
  scoped?: boolean;
}

/** Each page with the lowest console role that may open it: a link is shown only to those (the routes check again). */
const NAV: readonly (readonly [id: string, href: string, label: string, min: RbacRole])[] = [
  ['analytics', '/admin', 'Analytics', 'viewer'],
  ['cost', '/admin/cost', 'Cost', 'viewer'],
  ['budgets', '/admin/budgets', 'Budgets', 'viewer'],
  ['providers', '/admin/providers', 'Providers', 'viewer'],
  ['workflows', '/admin/workflows', 'Workflows', 'viewer'],
  ['playground', '/admin/playground', 'Playground', 'viewer'],
  ['roles', '/admin/roles', 'Roles', 'viewer'],
  ['experiments', '/admin/experiments', 'Experiments', 'viewer'],
  ['rbac', '/admin/rbac', 'Access', 'viewer'],
  ['intents', '/admin/intents', 'Intents', 'admin'],
  ['api-keys', '/admin/api-keys', 'API keys', 'admin'],
  ['sessions', '/admin/sessions', 'Sessions', 'owner'],
  ['audit', '/admin/audit', 'Audit log', 'admin'],
  ['privacy', '/admin/privacy', 'Privacy', 'viewer'],
  ['workspaces', '/admin/workspaces', 'Workspaces', 'admin'],
];

export function Page({ title, user, csrf, active, children, scripts = [], scoped = false }: PageProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title} · Rolecall admin`}</title>
        <link rel="stylesheet" href="/admin/assets/admin.css" />
      </head>
      <body>
        <header>
          <a class="brand" href="/admin">Rolecall</a>
          {user && (
            <nav>
              {NAV.filter(([id, , , min]) => atLeast(user.role, min) && (!scoped || id === 'workflows')).map(([id, href, label]) => <a href={href} class={active === id ? 'active' : ''}>{label}</a>)}
            </nav>
          )}
          {user && (
            <form method="post" action="/admin/logout" class="signout">
              <span class="who">{user.email} ({user.role})</span>
              <input type="hidden" name="_csrf" value={csrf} />
              <button type="submit">Sign out</button>
            </form>
          )}
        </header>
        <main>
          <h1>{title}</h1>
          {children}
        </main>
        {scripts.map((s) => <script src={s}></script>)}
      </body>
    </html>
  );
}

export const CsrfField = ({ token }: { token: string }) => <input type="hidden" name="_csrf" value={token} />;

export function Notice({ kind, text }: { kind: 'ok' | 'error'; text?: string }) {
  return text ? <p class={`notice ${kind}`} role={kind === 'error' ? 'alert' : 'status'}>{text}</p> : null;
}

/** What an empty list says: why it is empty and what to do next (a link), instead of a bare table header. */
export function Empty({ when, id, children }: { when: boolean; id?: string; children?: Child }) {
  return when ? <p class="empty" data-empty={id}>{children}</p> : null;
}

export const fmtDate = (d: Date | null | undefined) => (d ? d.toISOString().replace('T', ' ').slice(0, 19) : '—');
