// "Add to Slack": installs Rolecall to any workspace with @slack/oauth's InstallProvider. GET /slack/install serves
// the Add to Slack page and sets the state cookie; Slack sends the browser back to GET /slack/oauth_redirect, where
// the state is verified (the signed state parameter must match this browser's cookie, within 10 minutes), the code is
// exchanged for the workspace's bot token (oauth.v2.access) and the install is kept by the installation store
// (installations.ts: PostgreSQL, token sealed). Invariants: no install without a verified state; org-wide installs
// are refused; pages echo nothing from the request but Slack's team name, escaped.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InstallProvider, type InstallationStore } from '@slack/oauth';
import { Hono } from 'hono';
import { html } from 'hono/html';
import { errorMessage } from '../../agents/errors';
import type { Logger } from '../../orchestrator/log';
import { slackLogger } from './slack-logger';

/** The bot scopes Rolecall asks for (the same as in bot/slack/manifest*.yaml). */
export const BOT_SCOPES = [
  'app_mentions:read', 'chat:write', 'chat:write.customize', 'commands', 'files:read', 'files:write',
  'channels:history', 'groups:history', 'im:history', 'mpim:history', 'reactions:write',
  'users:read', // user_change: a deleted person's data is erased (issue 18); users.info: people's names for the console (issue 14)
  'assistant:write', // Slack's AI app features: a working role shows as an assistant thread's status (chat.ts working)
];

export interface SlackOAuthOptions {
  clientId: string;
  clientSecret: string;
  stateSecret: string;
  apiUrl: string;
  /** The public URL of /slack/oauth_redirect, when the app has more than one redirect URL. */
  redirectUri?: string;
  /** Slack's authorize page (tests: the fake's). */
  authorizationUrl?: string;
  /** The transport of oauth.v2.access (default: the global fetch). */
  fetch?: typeof globalThis.fetch;
}

export const INSTALL_PATH = '/slack/install';
export const REDIRECT_PATH = '/slack/oauth_redirect';

export function slackOAuthRoutes(options: SlackOAuthOptions, store: InstallationStore, log: Logger): Hono {
  const installer = new InstallProvider({
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    stateSecret: options.stateSecret,
    installationStore: store,
    installUrlOptions: { scopes: BOT_SCOPES, ...(options.redirectUri ? { redirectUri: options.redirectUri } : {}) },
    clientOptions: { slackApiUrl: options.apiUrl, ...(options.fetch ? { fetch: options.fetch } : {}) },
    logger: slackLogger(log, 'Slack install'),
    ...(options.authorizationUrl ? { authorizationUrl: options.authorizationUrl } : {}),
  });
  const routes = new Hono();
  routes.get(INSTALL_PATH, async (c) => {
    const { req, res, response } = nodeShim(c.req.raw);
    await installer.handleInstallPath(req, res);
    return response;
  });
  routes.get(REDIRECT_PATH, async (c) => {
    const { req, res, response } = nodeShim(c.req.raw);
    await installer.handleCallback(req, res, {
      success: (installation, _opts, _req, out) => {
        log.info('Slack: installed to a workspace', { team: installation.team?.id, name: installation.team?.name });
        page(out, 200, html`<h1>Rolecall is installed</h1><p>Rolecall was added to <b>${installation.team?.name ?? installation.team?.id ?? 'your workspace'}</b>. Invite it to a channel (<code>/invite @Rolecall</code>) and mention it with a request.</p>`);
      },
      failure: (error, _opts, _req, out) => {
        log.warn('Slack: an install did not complete', { code: error.code, error: errorMessage(error) });
        page(out, 400, html`<h1>Rolecall was not installed</h1><p>The install could not be completed (${error.code}). <a href="${INSTALL_PATH}">Start again</a>.</p>`);
      },
    });
    return response;
  });
  return routes;
}

function page(res: ServerResponse, status: number, body: unknown): void {
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.writeHead(status);
  res.end(`<!doctype html><html><head><meta charset="utf-8"><title>Rolecall</title></head><body>${String(body)}</body></html>`);
}

/** The parts of Node's request and response that InstallProvider uses (url, the cookie and host headers; headers,
 *  status and body), on a fetch Request, with the Response it writes. */
function nodeShim(request: Request): { req: IncomingMessage; res: ServerResponse; response: Promise<Response> } {
  const url = new URL(request.url);
  const req = { url: url.pathname + url.search, method: request.method, headers: { cookie: request.headers.get('cookie') ?? undefined, host: url.host } };
  const headers = new Map<string, string | string[]>();
  let status = 200;
  let done!: (r: Response) => void;
  const response = new Promise<Response>((r) => { done = r; });
  const res = {
    setHeader(name: string, value: string | string[]) { headers.set(name.toLowerCase(), value); return res; },
    getHeader: (name: string) => headers.get(name.toLowerCase()),
    writeHead(code: number, more?: Record<string, string>) {
      status = code;
      for (const [k, v] of Object.entries(more ?? {})) headers.set(k.toLowerCase(), v);
      return res;
    },
    end(body?: string) {
      const h = new Headers();
      for (const [k, v] of headers) for (const one of Array.isArray(v) ? v : [v]) h.append(k, one);
      done(new Response(body || null, { status, headers: h }));
      return res;
    },
  };
  return { req: req as unknown as IncomingMessage, res: res as unknown as ServerResponse, response };
}
