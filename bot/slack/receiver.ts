// A Bolt Receiver served by our Hono server at POST /slack/events (events and interactivity).
// It verifies signatures and timestamps (both directions, 5 minutes) and answers only after the listeners
// have run, so an event is acknowledged once it is safely on the queue, and Slack retries it otherwise.
import type { App, Receiver, ReceiverEvent } from '@slack/bolt';
import { verifySlackRequest } from '@slack/bolt';
import { Hono } from 'hono';
import type { Logger } from '../../orchestrator/log';
import { errorStack } from '../../agents/errors';

const MAX_SKEW_S = 300;
const ACK_TIMEOUT_MS = 2_800;

export class HonoSlackReceiver implements Receiver {
  private app?: App;

  /** The route Slack posts events and interactivity to. */
  readonly routes = new Hono();

  constructor(private readonly signingSecret: string, private readonly log: Logger, path = '/slack/events') {
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
    if (body.type === 'url_verification') return Response.json({ challenge: body.challenge });
    if (body.ssl_check === '1') return new Response(null, { status: 200 });
    return this.dispatch(req, body);
  }

  private verified(req: Request, raw: string): boolean {
    const ts = Number(req.headers.get('x-slack-request-timestamp'));
    if (!Number.isFinite(ts) || Math.abs(Date.now() / 1000 - ts) > MAX_SKEW_S) return false;
    try {
      verifySlackRequest({
        signingSecret: this.signingSecret,
        body: raw,
        headers: { 'x-slack-signature': req.headers.get('x-slack-signature') ?? '', 'x-slack-request-timestamp': ts },
      });
      return true;
    } catch {
      return false;
    }
  }

  private async dispatch(req: Request, body: Record<string, any>): Promise<Response> {
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
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ACK_TIMEOUT_MS).unref());
    try {
      const done = await Promise.race([this.app!.processEvent(event).then(() => 'done' as const), timeout]);
      if (done === 'timeout' && !acked) this.log.warn('slack request not acknowledged in time', { type: body.type });
    } catch (e) {
      this.log.error('slack listener failed', { error: errorStack(e) });
      return new Response('internal error', { status: 500 });
    }
    return ackResponse ?? new Response(null, { status: acked ? 200 : 500 });
  }
}

function parseBody(contentType: string, raw: string): Record<string, any> | undefined {
  try {
    if (contentType.startsWith('application/x-www-form-urlencoded')) {
      const p = new URLSearchParams(raw);
      return p.has('payload') ? JSON.parse(p.get('payload')!) : Object.fromEntries(p);
    }
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
