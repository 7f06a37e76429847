// The Slack edge: the receiver takes event callbacks straight to the orchestrator (bot/slack/events.ts, the ack path),
// and Bolt's listeners turn clicks and the feedback modal into orchestrator calls (bot/slack/interactions.ts).
import { App, LogLevel } from '@slack/bolt';
import type { Hono } from 'hono';
import type { Logger, Orchestrator } from '../../orchestrator';
import { HonoSlackReceiver } from './receiver';
import { eventCallbackHandler, slackBotUserId } from './events';
import { registerInteractions } from './interactions';

export { slackTsToIso } from './events';

export interface SlackEdgeConfig {
  signingSecret: string;
  botToken: string;
  apiUrl: string;
}

/** The Slack edge's routes (POST /slack/events): events handled by the receiver, interactivity by Bolt behind it. */
export function slackRoutes(cfg: SlackEdgeConfig, orchestrator: Orchestrator, log: Logger): Hono {
  const events = eventCallbackHandler(orchestrator, log, slackBotUserId(cfg.botToken, cfg.apiUrl, log));
  const receiver = new HonoSlackReceiver(cfg.signingSecret, log, events);
  const app = new App({
    receiver,
    // Bolt only sees interactivity (clicks, modals), which needs the token and nothing from auth.test.
    authorize: async () => ({ botToken: cfg.botToken }),
    convoStore: false,
    logLevel: LogLevel.ERROR,
    clientOptions: { slackApiUrl: cfg.apiUrl },
  });
  app.error(async (e) => {
    log.error('slack handler error', { error: String(e?.stack ?? e) });
    throw e; // answered with 500, so Slack retries and nothing is lost
  });
  registerInteractions(app, orchestrator, log);
  return receiver.routes;
}
