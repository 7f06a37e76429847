// The Slack edge: Bolt listeners turn Slack events and clicks into orchestrator calls.
import { App, LogLevel } from '@slack/bolt';
import type { Hono } from 'hono';
import type { Orchestrator } from '../../orchestrator/api';
import type { InboundMessage } from '../../orchestrator/chat';
import type { Logger } from '../../orchestrator/log';
import { HonoSlackReceiver } from './receiver';
import { registerInteractions } from './interactions';
import { registerWorkflowActions } from './workflow-actions';

export interface SlackEdgeConfig {
  signingSecret: string;
  botToken: string;
  apiUrl: string;
}

/** The Slack edge's routes (POST /slack/events), with Bolt listening behind them. */
export function slackRoutes(cfg: SlackEdgeConfig, orchestrator: Orchestrator, log: Logger): Hono {
  const receiver = new HonoSlackReceiver(cfg.signingSecret, log);
  const app = new App({
    receiver,
    token: cfg.botToken,
    logLevel: LogLevel.ERROR,
    clientOptions: { slackApiUrl: cfg.apiUrl },
  });
  app.error(async (e) => {
    log.error('slack handler error', { error: String(e?.stack ?? e) });
    throw e; // answered with 500, so Slack retries and nothing is lost
  });

  app.event('app_mention', async ({ event, body }) => {
    if ((event as { bot_id?: string }).bot_id) return;
    await orchestrator.receive(inbound(body.team_id, event as SlackMessageEvent, true));
  });

  app.event('message', async ({ event, body, context }) => {
    const e = event as SlackMessageEvent & { subtype?: string };
    if (e.subtype || e.bot_id || !e.user || !e.thread_ts || e.thread_ts === e.ts) return; // only people's thread replies
    if (context.botUserId && e.text?.includes(`<@${context.botUserId}>`)) return; // the app_mention event carries it
    await orchestrator.receive(inbound(body.team_id, e, false));
  });

  registerInteractions(app, orchestrator);
  registerWorkflowActions(app, orchestrator);
  return receiver.routes;
}

interface SlackMessageEvent {
  user?: string;
  text?: string;
  ts: string;
  thread_ts?: string;
  channel: string;
  bot_id?: string;
}

function inbound(teamId: string, e: SlackMessageEvent, mentioned: boolean): InboundMessage {
  return {
    platform: 'slack',
    teamId,
    channelId: e.channel,
    threadTs: e.thread_ts ?? e.ts,
    messageTs: e.ts,
    userId: e.user ?? 'unknown',
    text: (e.text ?? '').replace(/<@[A-Za-z0-9_]+>/g, '').trim(),
    mentioned,
  };
}
