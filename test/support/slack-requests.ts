// Correctly signed Slack requests (events and interactivity), as Slack sends them.
import { createHmac, randomUUID } from 'node:crypto';

export const SIGNING_SECRET = 'test-signing-secret';

export function sign(body: string, ts = Math.floor(Date.now() / 1000), secret = SIGNING_SECRET): Record<string, string> {
  const sig = 'v0=' + createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex');
  return { 'x-slack-request-timestamp': String(ts), 'x-slack-signature': sig };
}

export interface SlackPoster {
  event(event: Record<string, unknown>, opts?: { eventId?: string; headers?: Record<string, string> }): Promise<Response>;
  raw(body: string, contentType: string, headers: Record<string, string>): Promise<Response>;
  interaction(payload: Record<string, unknown>): Promise<Response>;
}

export function slackPoster(baseUrl: string): SlackPoster {
  const url = `${baseUrl}/slack/events`;
  const raw = (body: string, contentType: string, headers: Record<string, string>) =>
    fetch(url, { method: 'POST', body, headers: { 'content-type': contentType, ...headers } });
  return {
    raw,
    event: (event, opts = {}) => {
      const body = JSON.stringify({ type: 'event_callback', team_id: 'T1', api_app_id: 'A1', event_id: opts.eventId ?? `Ev${randomUUID()}`, event_time: Math.floor(Date.now() / 1000), event });
      return raw(body, 'application/json', { ...sign(body), ...opts.headers });
    },
    interaction: (payload) => {
      const body = 'payload=' + encodeURIComponent(JSON.stringify(payload));
      return raw(body, 'application/x-www-form-urlencoded', sign(body));
    },
  };
}

let tsSeq = 1_800_000_000;
export const nextTs = () => `${tsSeq++}.${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}`;

export function mention(text: string, opts: { channel?: string; user?: string; ts?: string; thread_ts?: string } = {}) {
  const ts = opts.ts ?? nextTs();
  return { type: 'app_mention', user: opts.user ?? 'U_ALICE', text: `<@U_BOT> ${text}`, ts, channel: opts.channel ?? 'C_TEAM', event_ts: ts, ...(opts.thread_ts ? { thread_ts: opts.thread_ts } : {}) };
}

export function threadReply(text: string, threadTs: string, opts: { channel?: string; user?: string } = {}) {
  const ts = nextTs();
  return { type: 'message', channel_type: 'channel', user: opts.user ?? 'U_ALICE', text, ts, thread_ts: threadTs, channel: opts.channel ?? 'C_TEAM', event_ts: ts };
}

export function buttonClick(actionId: string, value: string, opts: { user?: string; channel?: string; messageTs: string; threadTs?: string }) {
  return {
    type: 'block_actions', user: { id: opts.user ?? 'U_ALICE', username: 'alice', team_id: 'T1' }, team: { id: 'T1', domain: 'fake' },
    api_app_id: 'A1', token: 'legacy', trigger_id: `trig-${randomUUID()}`, channel: { id: opts.channel ?? 'C_TEAM', name: 'team' },
    container: { type: 'message', message_ts: opts.messageTs, channel_id: opts.channel ?? 'C_TEAM', is_ephemeral: false },
    message: { type: 'message', ts: opts.messageTs, thread_ts: opts.threadTs, bot_id: 'B_SELF' },
    response_url: 'https://hooks.slack.test/actions/x',
    actions: [{ type: 'button', action_id: actionId, block_id: 'rolecall_actions', value, text: { type: 'plain_text', text: actionId }, action_ts: String(Date.now() / 1000) }],
  };
}

export function modalSubmit(privateMetadata: string, feedback: string, user = 'U_ALICE') {
  return {
    type: 'view_submission', team: { id: 'T1', domain: 'fake' }, user: { id: user, username: user, team_id: 'T1' }, api_app_id: 'A1', token: 'legacy', trigger_id: `trig-${randomUUID()}`,
    view: {
      id: 'V1', team_id: 'T1', type: 'modal', callback_id: 'request_changes_modal', private_metadata: privateMetadata, hash: 'h',
      state: { values: { feedback: { text: { type: 'plain_text_input', value: feedback } } } },
      blocks: [], title: { type: 'plain_text', text: 'Request changes' },
    },
  };
}
