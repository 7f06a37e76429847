// Slack Socket Mode: events, interactivity and the slash command arrive over a WebSocket that Rolecall opens
// (apps.connections.open with the app-level token, @slack/socket-mode's SocketModeClient), so a developer can run
// against a real workspace without a public URL. Each envelope goes through the same paths as over HTTP: event
// callbacks to the events handler (events.ts), the slash command to commands.ts, clicks and the modal through Bolt's
// listeners (interactions.ts). Invariant (the durable ack, as receiver.ts over HTTP): an envelope is acknowledged only
// once its work is kept (the queue, or the PostgreSQL inbox) or deliberately dropped; when the work could not be kept
// it is not acknowledged, so Slack delivers it again. Malformed envelopes are acked (a retry would not change them).
import type { App, Receiver, ReceiverEvent } from '@slack/bolt';
import { SocketModeClient } from '@slack/socket-mode';
import { errorMessage, errorStack } from '../../agents/errors';
import { isInfraError } from '../../orchestrator/infra';
import type { Logger } from '../../orchestrator/log';
import type { SlashCommandHandler } from './commands';
import { slackLogger } from './slack-logger';
import type { EventCallbackHandler } from './events';

/** Interactivity types Bolt's listeners take (as over HTTP, receiver.ts). */
const INTERACTIVE_TYPES = new Set(['block_actions', 'view_submission']);

interface SocketEnvelope {
  ack(response?: Record<string, unknown>): Promise<void>;
  envelope_id?: string;
  type: string;
  body?: unknown;
  retry_num?: number;
  retry_reason?: string;
}

const isObject = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface SocketModeOptions {
  appToken: string;
  apiUrl: string;
  /** The transport of apps.connections.open (default: the global fetch). */
  fetch?: typeof globalThis.fetch;
}

export class SocketModeEdge implements Receiver {
  private app?: App;
  private readonly client: SocketModeClient;

  constructor(options: SocketModeOptions, private readonly log: Logger, private readonly events: EventCallbackHandler, private readonly commands: SlashCommandHandler) {
    this.client = new SocketModeClient({ appToken: options.appToken, clientOptions: { slackApiUrl: options.apiUrl, ...(options.fetch ? { fetch: options.fetch } : {}) }, logger: slackLogger(log, 'Slack Socket Mode') });
    this.client.on('slack_event', (m: SocketEnvelope) => void this.handle(m));
  }

  init(app: App): void {
    this.app = app;
  }

  /** Opens the connection (resolves once Slack said hello); it reconnects by itself afterwards. */
  async start(): Promise<void> {
    await this.client.start();
  }

  async stop(): Promise<void> {
    await this.client.disconnect();
  }

  private async handle(m: SocketEnvelope): Promise<void> {
    const body = m.body;
    try {
      if (!isObject(body)) return await m.ack();
      if (m.type === 'events_api') {
        if (body.type === 'event_callback') {
          const outcome = await this.events(body);
          if (outcome === 'malformed') this.log.warn('ignored a malformed Slack event (Socket Mode)', { envelope: m.envelope_id });
        }
        return await m.ack();
      }
      if (m.type === 'slash_commands') {
        const answer = await this.commands(body);
        return await m.ack(answer === 'malformed' ? undefined : { ...answer });
      }
      if (m.type === 'interactive' && INTERACTIVE_TYPES.has(String(body.type))) return await this.dispatch(m, body);
      this.log.info('ignored a Socket Mode envelope of a type Rolecall does not handle', { type: m.type.slice(0, 64) });
      await m.ack();
    } catch (e) {
      // Not acknowledged: Slack sends the envelope again.
      if (isInfraError(e) || isInfraError((e as { original?: unknown })?.original)) {
        this.log.warn('Socket Mode envelope could not be kept (Redis and PostgreSQL unreachable): not acknowledged, so that Slack sends it again', { type: m.type, error: errorMessage(e) });
      } else {
        this.log.error('Socket Mode listener failed', { type: m.type, error: errorStack(e) });
      }
    }
  }

  /** Clicks and the modal through Bolt's listeners; acked with what the listener acked, once it has run. */
  private async dispatch(m: SocketEnvelope, body: Record<string, any>): Promise<void> {
    let acked = false;
    const event: ReceiverEvent = {
      body,
      retryNum: m.retry_num,
      retryReason: m.retry_reason,
      ack: async (resp?: unknown) => {
        if (acked) return;
        acked = true;
        await m.ack(isObject(resp) ? resp : undefined);
      },
    };
    await this.app!.processEvent(event);
    if (!acked) {
      this.log.info('no listener took this Slack request', { type: body.type });
      await m.ack();
    }
  }
}
