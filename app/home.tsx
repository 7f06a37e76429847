// The public front door: `/` answers a small page that says where everything is (console, playground, health, MCP,
// docs), and a chat platform's route that is off (Slack or Teams not configured) answers a sentence saying so and
// how to turn it on, instead of a bare 404. Mounted last, so any configured edge's own route answers first.
// Invariant: anonymous and static: nothing here reads a request body or names a secret, host or internal detail.
import { Hono, type Context } from 'hono';
import { raw } from 'hono/html';
import { secureHeaders } from 'hono/secure-headers';

export interface HomeOptions {
  /** Slack's HTTP routes (/slack/*): on, off (not configured), or off because Slack runs over Socket Mode. */
  slack: 'http' | 'socket' | 'off';
  teams: boolean;
  demoModel: boolean;
}

export const SLACK_OFF_TEXT = 'Slack is not configured on this server, so /slack/* is off. Set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN (events over HTTP) or SLACK_APP_TOKEN and SLACK_BOT_TOKEN (Socket Mode), then restart. Without Slack, try Rolecall in the console\'s playground: /admin/playground';
export const SLACK_SOCKET_TEXT = 'Slack runs over Socket Mode on this server (SLACK_APP_TOKEN), so Slack does not post events here: /slack/events is off.';
export const TEAMS_OFF_TEXT = 'Microsoft Teams is not configured on this server, so /api/messages is off. Set TEAMS_APP_ID, TEAMS_APP_PASSWORD and TEAMS_TENANT_ID, then restart. Without Teams, try Rolecall in the console\'s playground: /admin/playground';

export function homeRoutes(opts: HomeOptions): Hono {
  const app = new Hono();
  app.use('/', secureHeaders({ contentSecurityPolicy: { defaultSrc: ["'none'"], styleSrc: ["'unsafe-inline'"], frameAncestors: ["'none'"] } }));
  app.get('/', (c) => c.html(<>{raw('<!doctype html>')}
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>Rolecall</title>
        <style>{'body{font:15px/1.5 system-ui,sans-serif;max-width:640px;margin:48px auto;padding:0 16px;color:#1d2330}li{margin:6px 0}code{background:#eef0f4;padding:1px 4px;border-radius:3px}.off{color:#5c6b7a}'}</style>
      </head>
      <body>
        <h1>Rolecall</h1>
        <p>A team of AI roles (analyst, architect, developer, tester, PM) that work a request through in a chat thread, with approval gates.</p>
        <ul id="links">
          <li><a href="/admin/playground"><b>Playground</b></a>: try a workflow here, without Slack or Teams{opts.demoModel ? ' (offline demo model: example text, not AI output)' : ''}.</li>
          <li><a href="/admin">Admin console</a>: workflows, roles, access, API keys, audit log.</li>
          <li><a href="/health">/health</a> and <a href="/ready">/ready</a>: liveness and readiness.</li>
          <li><code>/mcp</code>: the roles as MCP tools, with an API key from the console.</li>
          <li>Slack: {opts.slack === 'http' ? <span>events at <code>/slack/events</code>.</span> : opts.slack === 'socket' ? 'connected over Socket Mode.' : <span class="off">not configured (see README, "Slack app").</span>}</li>
          <li>Microsoft Teams: {opts.teams ? <span>messages at <code>/api/messages</code>.</span> : <span class="off">not configured (see README, "Microsoft Teams").</span>}</li>
          <li>Docs: <code>README.md</code> (quick start, configuration, Slack, Teams, console) and <code>docs/runbook.md</code> in the repository.</li>
        </ul>
      </body>
    </html>
  </>));
  const off = (text: string) => (c: Context) => c.text(text, 503);
  if (opts.slack === 'off') app.all('/slack/*', off(SLACK_OFF_TEXT));
  if (opts.slack === 'socket') app.all('/slack/events', off(SLACK_SOCKET_TEXT));
  if (!opts.teams) app.all('/api/messages', off(TEAMS_OFF_TEXT));
  return app;
}
