// A Bolt Receiver served by our Hono server at POST /slack/events (events, interactivity and the /rolecall command).
// It verifies signatures and timestamps (both directions, 5 minutes) and answers only after the work is kept durably
// (the queue, or the PostgreSQL inbox), so Slack retries whatever was not. Event callbacks (mentions, thread replies:
// the bulk of the traffic) go straight to the events handler (bot/slack/events.ts), which parses them with zod and
// queues one job; only interactivity (clicks, modals) runs through Bolt's listeners. Invariant: every signed request
// gets a deliberate answer: 400 for a body that is not a JSON object, 200 for the types Rolecall ignores (Slack's
// app_rate_limited notice is logged), 503 at once when the work could not be kept (Slack retries), 500 only for a bug
// in a listener.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { App, Receiver, ReceiverEvent } from '@slack/bolt';
import { UnknownError } from '@slack/bolt';
import { Hono } from 'hono';
import type { Logger } from '../../orchestrator/log';
import { errorMessage, errorStack } from '../../agents/errors';
import { lagTolerantTimer } from '../../orchestrator/deadline';
import { isInfraError } from '../../orchestrator/infra';
import type { SlashCommandHandler } from './commands';
import type { EventCallbackHandler } from './events';

const MAX_SKEW_S = 300;
const ACK_TIMEOUT_MS = 2_800;

export class HonoSlackReceiver implements Receiver {
  private app?: App;

  /** The route Slack posts events and interactivity to. */
  readonly routes = new Hono();

  constructor(
    private readonly signingSecret: string, private readonly log: Logger, private readonly events: EventCallbackHandler,
    private readonly commands?: SlashCommandHandler, path = '/slack/events',
  ) {
    this.routes.post(path, (c) => this.handle(c.req.raw));
  }

  init(app: App): void {
    this.app = app;
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  private async handle(req: Request): Promise<Response> {
    const raw = await req.text();
    if (!this.verified(req, raw)) return new Response('invalid signature', { status: 401 });
    const body = parseBody(req.headers.get('content-type') ?? '', raw);
    if (!body) return new Response('malformed body', { status: 400 });
    if (body.ssl_check === '1') return new Response(null, { status: 200 });
    if (typeof body.command === 'string' && this.commands) {
      // a slash command (form fields, no type): answered with its ephemeral reply
      return this.settle('slash_command', this.commands(body).then((a) => (a === 'malformed' ? new Response('malformed body', { status: 400 }) : Response.json(a))));
    }
    const type = typeof body.type === 'string' ? body.type : undefined;
    if (type === 'url_verification') {
      return typeof body.challenge === 'string' ? Response.json({ challenge: body.challenge }) : new Response('malformed body', { status: 400 });
    }
    if (type === 'app_rate_limited') {
      // Slack stopped sending this workspace's events for a minute (over 30,000 an hour): those events are not sent again.
      this.log.warn('Slack is rate-limiting this app\'s events', { team: String(body.team_id ?? ''), minute: Number(body.minute_rate_limited) || undefined });
      return new Response(null, { status: 200 });
    }
    if (!type || !HANDLED_TYPES.has(type)) {
      this.log.info('ignored a Slack request of a type Rolecall does not handle', { type: type?.slice(0, 64) ?? '(none)' });
      return type ? new Response(null, { status: 200 }) : new Response('malformed body: no type', { status: 400 });
    }
    if (type === 'event_callback') {
      if (!isObject(body.event)) return new Response('malformed body: no event', { status: 400 });
      return this.settle(type, this.events(body).then((outcome) => {
        if (outcome === 'malformed') return new Response('malformed body', { status: 400 });
        if (outcome === 'unhandled') this.log.info('no listener took this Slack request', { type, event: String(body.event.type).slice(0, 64) });
        return new Response(null, { status: 200 });
      }));
    }
    return this.dispatch(req, body);
  }

  /** Slack's v0 signature: HMAC-SHA256 of `v0:<timestamp>:<body>` with the signing secret, compared in constant time. */
  private verified(req: Request, raw: string): boolean {
    const header = req.headers.get('x-slack-request-timestamp');
    const ts = Number(header);
    if (!header || !Number.isInteger(ts) || Math.abs(Date.now() / 1000 - ts) > MAX_SKEW_S) return false;
    const given = Buffer.from(req.headers.get('x-slack-signature') ?? '');
    const wanted = Buffer.from(`v0=${createHmac('sha256', this.signingSecret).update(`v0:${header}:${raw}`).digest('hex')}`);
    return given.length === wanted.length && timingSafeEqual(given, wanted);
  }

  /** Interactivity through Bolt: answered with what the listener acked, once it has run. */
  private dispatch(req: Request, body: Record<string, any>): Promise<Response> {
    let ackResponse: Response | undefined;
    let acked = false;
    const event: ReceiverEvent = {
      body,
      retryNum: req.headers.has('x-slack-retry-num') ? Number(req.headers.get('x-slack-retry-num')) : undefined,
      retryReason: req.headers.get('x-slack-retry-reason') ?? undefined,
      ack: async (resp?: unknown) => {
        if (acked) return;
        acked = true;
        ackResponse = resp === undefined || resp === '' ? new Response(null, { status: 200 }) : typeof resp === 'string' ? new Response(resp) : Response.json(resp);
      },
    };
    return this.settle(body.type, this.app!.processEvent(event).then(() => {
      if (!acked) this.log.info('no listener took this Slack request', { type: body.type }); // e.g. a button of another app
      return ackResponse ?? new Response(null, { status: 200 });
    }), () => ackResponse);
  }

  /** The answer `work` resolves with; after ACK_TIMEOUT_MS, what was acked by then or else 503; 503 when the work
   *  could not be kept (Redis and PostgreSQL unreachable); 500 for a bug. */
  private async settle(type: unknown, work: Promise<Response>, ackedBy: () => Response | undefined = () => undefined): Promise<Response> {
    const timer = lagTolerantTimer(ACK_TIMEOUT_MS);
    try {
      const done = await Promise.race([work, timer.elapsed.then(() => 'timeout' as const)]);
      if (done !== 'timeout') return done;
      const acked = ackedBy();
      if (acked) return acked;
      this.log.warn('slack request not acknowledged in time: answered 503 so that Slack retries', { type });
      return unavailable();
    } catch (e) {
      if (isInfraError(e instanceof UnknownError ? e.original : e)) {
        this.log.warn('slack request could not be kept (Redis and PostgreSQL unreachable): answered 503 so that Slack retries', { type, error: errorMessage(e) });
        return unavailable();
      }
      this.log.error('slack listener failed', { error: errorStack(e) });
      return new Response('internal error', { status: 500 });
    } finally {
      timer.clear();
    }
  }
}

/** The request types Rolecall handles (events here, interactivity through Bolt); every other signed request is answered here. */
const HANDLED_TYPES = new Set(['event_callback', 'block_actions', 'view_submission']);

const unavailable = () => new Response('temporarily unavailable', { status: 503 });

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The body as a JSON object (Slack sends nothing else), or undefined. */
function parseBody(contentType: string, raw: string): Record<string, any> | undefined {
  try {
    if (contentType.startsWith('application/x-www-form-urlencoded')) {
      const p = new URLSearchParams(raw);
      const v: unknown = p.has('payload') ? JSON.parse(p.get('payload')!) : Object.fromEntries(p);
      return isObject(v) ? v : undefined;
    }
    const v: unknown = JSON.parse(raw);
    return isObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}
