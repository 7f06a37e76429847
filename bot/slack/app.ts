// The Slack edge. Events arrive over HTTP (POST /slack/events, receiver.ts, signed with the signing secret) or over
// Socket Mode (socket.ts, with the app-level token, no public URL needed); either way event callbacks go straight to
// the orchestrator (events.ts, the ack path), the /rolecall command to commands.ts, and clicks and the feedback modal
// through Bolt's listeners (interactions.ts). Tokens come from installations.ts (one SLACK_BOT_TOKEN, or each
// workspace's "Add to Slack" install, whose pages oauth.ts serves). Invariant: both ways in run the same handlers.
import { App, LogLevel, type Receiver } from '@slack/bolt';
import { Hono } from 'hono';
import type { Logger, Orchestrator } from '../../orchestrator';
import { errorMessage } from '../../agents/errors';
import { slackClients } from './chat';
import { slashCommandHandler } from './commands';
import { eventCallbackHandler, slackBotUserId, type EventHooks } from './events';
import { assistantThreadStarted } from './assistant';
import { appHome } from './home';
import type { SlackInstallations, SlackTokens } from './installations';
import { registerInteractions } from './interactions';
import { INSTALL_PATH, slackOAuthRoutes, type SlackOAuthOptions } from './oauth';
import { HonoSlackReceiver } from './receiver';
import { SocketModeEdge } from './socket';

export { slackTsToIso } from './events';

export interface SlackEdgeConfig {
  apiUrl: string;
  /** Events over HTTP at POST /slack/events (unless appToken is set). */
  signingSecret?: string;
  /** Socket Mode. */
  appToken?: string;
  /** One workspace's token (for the bot's own user id; posting takes tokens from `tokens`). */
  botToken?: string;
  /** "Add to Slack" (the installation store comes with `tokens`). */
  oauth?: Omit<SlackOAuthOptions, 'apiUrl'>;
  /** The transport of every Slack client (default: the global fetch; traced when tracing is on, app/runtime.ts). */
  fetch?: typeof globalThis.fetch;
}

export interface SlackEdge {
  /** /slack/events (HTTP mode), /slack/install and /slack/oauth_redirect (Add to Slack). */
  routes: Hono;
  /** Opens the Socket Mode connection, if any (in the background: start-up does not wait for Slack). */
  start(): void;
  stop(): Promise<void>;
  describe: string;
}

/** What the edge hands on besides messages and clicks. */
export interface SlackEdgeHooks {
  /** A person was deleted in a workspace: queue their erasure (orchestrator/privacy/scheduler.ts). */
  personDeleted?(teamId: string, userId: string): Promise<void>;
}

export function slackEdge(cfg: SlackEdgeConfig, tokens: SlackTokens | SlackInstallations, orchestrator: Orchestrator, log: Logger, extra: SlackEdgeHooks = {}): SlackEdge {
  const clientFor = slackClients(tokens, cfg.apiUrl, cfg.fetch);
  const clientOptions = { slackApiUrl: cfg.apiUrl, ...(cfg.fetch ? { fetch: cfg.fetch } : {}) };
  const installations = 'store' in tokens ? tokens : undefined;
  const ownUser = cfg.botToken ? slackBotUserId(cfg.botToken, cfg.apiUrl, log, cfg.fetch) : undefined;
  const home = appHome(orchestrator, clientFor, log);
  const prompts = assistantThreadStarted(clientFor, log);
  const hooks: EventHooks = {
    botUserId: async (teamId) => {
      if (ownUser) return ownUser();
      const id = await tokens.botUserId(teamId);
      if (!id) throw new Error(`the bot user of Slack workspace ${teamId} is not known`);
      return id;
    },
    disable: async (teamId, reason) => {
      if (installations) return void (await installations.disable(teamId, reason));
      log.error(`Slack says the app was ${reason === 'uninstalled' ? 'uninstalled' : 'stripped of its tokens'} in workspace ${teamId}: SLACK_BOT_TOKEN no longer works there`, { team: teamId });
    },
    homeOpened: (teamId, userId) => void home(teamId, userId),
    assistantThreadStarted: (teamId, channelId, threadTs) => void prompts(teamId, channelId, threadTs),
    ...(extra.personDeleted ? { personDeleted: extra.personDeleted } : {}),
  };
  const events = eventCallbackHandler(orchestrator, log, hooks);
  const commands = slashCommandHandler(orchestrator, log);
  const routes = new Hono();
  let receiver: Receiver;
  let socket: SocketModeEdge | undefined;
  if (cfg.appToken) {
    socket = new SocketModeEdge({ appToken: cfg.appToken, apiUrl: cfg.apiUrl, fetch: cfg.fetch }, log, events, commands);
    receiver = socket;
  } else {
    const http = new HonoSlackReceiver(cfg.signingSecret ?? '', log, events, commands);
    routes.route('/', http.routes);
    receiver = http;
  }
  const app = new App({
    receiver,
    // Bolt only sees interactivity (clicks, modals): the token of the workspace the click came from.
    authorize: async (source) => ({ botToken: await tokens.botToken(source.teamId ?? '') }),
    convoStore: false,
    logLevel: LogLevel.ERROR,
    clientOptions,
  });
  app.error(async (e) => {
    log.error('slack handler error', { error: String(e?.stack ?? e) });
    throw e; // answered with 500 (not acked over Socket Mode), so Slack retries and nothing is lost
  });
  registerInteractions(app, orchestrator, log);
  if (cfg.oauth && installations) routes.route('/', slackOAuthRoutes({ ...cfg.oauth, apiUrl: cfg.apiUrl, fetch: cfg.fetch }, installations.store, log));
  const way = socket ? 'Socket Mode (SLACK_APP_TOKEN; no public URL needed)' : 'HTTP at /slack/events';
  return {
    routes,
    start: () => {
      if (!socket) return;
      socket.start().then(
        () => log.info('Slack: Socket Mode connected'),
        (e: unknown) => log.error('Slack: Socket Mode could not connect (check SLACK_APP_TOKEN and its connections:write scope)', { error: errorMessage(e) }),
      );
    },
    stop: async () => {
      await socket?.stop();
    },
    describe: `${way}; tokens: ${tokens.describe}${cfg.oauth ? `; install page at ${INSTALL_PATH}` : ''}`,
  };
}
