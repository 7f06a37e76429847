// The Slack edge: Bolt listeners turn Slack events and clicks into orchestrator calls.
import { App, LogLevel } from '@slack/bolt';
import type { Hono } from 'hono';
import type { InboundMessage, Logger, Orchestrator } from '../../orchestrator';
import { HonoSlackReceiver } from './receiver';
import { registerInteractions } from './interactions';
import { MessageEvent } from './payloads';

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
    const e = MessageEvent.safeParse(event);
    if (!e.success) return log.warn('ignored a malformed Slack app_mention', { issues: e.error.issues.map((i) => i.path.join('.')) });
    if (e.data.bot_id) return;
    await orchestrator.receive(inbound(body.team_id, e.data, true));
  });

  app.event('message', async ({ event, body, context }) => {
    const parsed = MessageEvent.safeParse(event);
    if (!parsed.success) return; // message subtypes Rolecall does not read (edits, deletions, joins) have other shapes
    const e = parsed.data;
    if (e.subtype || e.bot_id || !e.user || !e.thread_ts || e.thread_ts === e.ts) return; // only people's thread replies
    if (context.botUserId && e.text?.includes(`<@${context.botUserId}>`)) return; // the app_mention event carries it
    await orchestrator.receive(inbound(body.team_id, e, false));
  });

  registerInteractions(app, orchestrator, log);
  return receiver.routes;
}

function inbound(teamId: string, e: MessageEvent, mentioned: boolean): InboundMessage {
  return {
    platform: 'slack',
    teamId,
    channelId: e.channel,
    threadTs: e.thread_ts ?? e.ts,
    messageTs: e.ts,
    sentAt: slackTsToIso(e.ts),
    userId: e.user ?? 'unknown',
    text: (e.text ?? '').replace(/<@[A-Za-z0-9_]+>/g, '').trim(),
    mentioned,
  };
}

/** A Slack message ts ("1700000000.000100": seconds, then a per-channel sequence) as the time it was written. */
export function slackTsToIso(ts: string): string | undefined {
  const seconds = Number(ts);
  return Number.isFinite(seconds) && seconds > 0 ? new Date(Math.floor(seconds * 1000)).toISOString() : undefined;
}
