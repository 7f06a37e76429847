// The Teams edge: POST /api/messages on our Hono server. The Agents SDK authenticates the request (JWT), we check
// the serviceurl claim, validate the activity, and turn it into orchestrator calls. Nothing slow runs here: messages
// are queued, and everything the workflow posts later goes out proactively from the workers.
import { Activity } from '@microsoft/agents-activity';
import type { TurnContext } from '@microsoft/agents-hosting';
import { Hono } from 'hono';
import type { ActOutcome, Logger, Orchestrator } from '../../orchestrator';
import { CardActionData, ExecuteInvokeValue, IncomingActivity, isMentioned, plainText, teamIdOf, userIdOf } from './activity';
import { runCardAction } from './actions';
import type { TeamsAdapter } from './adapter';
import { CARD_CONTENT_TYPE } from './cards';
import { referenceOf } from './chat';
import { recordedResponse, sdkRequest, type SdkRequest } from './http';
import { replyConversationId, threadKeyOf } from './ids';
import type { TeamsStore } from './store';
import { errorStack } from '../../agents/errors';

export function teamsRoutes(teams: TeamsAdapter, orchestrator: Orchestrator, store: TeamsStore, log: Logger, path = '/api/messages'): Hono {
  const hono = new Hono();
  teams.adapter.onTurnError = async (_ctx, error) => {
    throw error; // answered with 500: the channel retries, and intake deduplicates
  };
  hono.post(path, async (c) => {
    const body = parseJson(await c.req.raw.text());
    if (!body) return new Response('malformed body', { status: 400 });
    const req = sdkRequest(c.req.raw, body);
    const out = recordedResponse();
    let authorized = false;
    await teams.adapter.authorizeRequest(req as never, out.res as never, async () => void (authorized = true));
    if (!authorized) return out.toResponse(401);
    if (!serviceUrlMatchesClaim(req, body)) return Response.json({ error: 'serviceUrl does not match the token' }, { status: 401 });
    const parsed = IncomingActivity.safeParse(body);
    if (!parsed.success) return Response.json({ error: 'invalid activity', issues: parsed.error.issues.map((i) => i.path.join('.')) }, { status: 400 });
    try {
      await teams.adapter.process(req as never, out.res as never, (ctx) => onActivity(ctx, parsed.data, orchestrator, store, log));
    } catch (e) {
      log.error('teams turn failed', { error: errorStack(e) });
      return new Response('internal error', { status: 500 });
    }
    return out.toResponse(200);
  });
  return hono;
}

/** Bot Framework tokens name the serviceUrl they were issued for; an activity pointing elsewhere is refused. */
function serviceUrlMatchesClaim(req: SdkRequest, body: Record<string, unknown>): boolean {
  const claim = req.user?.serviceurl;
  if (typeof claim !== 'string') return true; // anonymous, or an Entra token (no such claim)
  try {
    return new URL(claim).host.toLowerCase() === new URL(String(body.serviceUrl)).host.toLowerCase();
  } catch {
    return false;
  }
}

async function onActivity(ctx: TurnContext, a: IncomingActivity, orchestrator: Orchestrator, store: TeamsStore, log: Logger): Promise<void> {
  if (a.type === 'invoke' && a.name === 'adaptiveCard/action') return onExecute(ctx, a, orchestrator, store);
  if (a.type !== 'message' || a.from.id === a.recipient.id || !a.id) return;
  if (a.from.name) await store.saveName(userIdOf(a), a.from.name);
  if (a.value !== undefined && !a.text) return onSubmit(ctx, a, orchestrator);
  const key = threadKeyOf(a.id, a.conversation);
  await store.saveReference(key, referenceOf(a, replyConversationId(key)));
  const mentioned = isMentioned(a);
  await orchestrator.receive({ platform: 'teams', teamId: teamIdOf(a), ...key, userId: userIdOf(a), text: plainText(a), mentioned });
  if (mentioned) await ctx.sendActivity(Activity.fromObject({ type: 'typing' })).catch((e) => log.warn('teams typing indicator failed', { error: String(e) }));
}

/** Universal Actions: the answer replaces the card for the person who pressed (or shows a note and keeps it). */
async function onExecute(ctx: TurnContext, a: IncomingActivity, orchestrator: Orchestrator, store: TeamsStore): Promise<void> {
  const invoke = ExecuteInvokeValue.safeParse(a.value);
  const data = invoke.success ? CardActionData.safeParse(invoke.data.action.data) : undefined;
  if (!data?.success) return invokeResponse(ctx, 400, { statusCode: 400, type: 'application/vnd.microsoft.error', value: { code: 'BadRequest', message: 'unknown card action' } });
  if (a.from.name) await store.saveName(userIdOf(a), a.from.name);
  const outcome = await runCardAction(orchestrator, data.data, a);
  return invokeResponse(ctx, 200, executeAnswer(outcome));
}

function executeAnswer(outcome: ActOutcome): Record<string, unknown> {
  if (outcome.kind !== 'done') return { statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: outcomeNote(outcome) };
  const card = { type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text: `✅ ${outcome.text}`, wrap: true }] };
  return { statusCode: 200, type: CARD_CONTENT_TYPE, value: card };
}

const invokeResponse = async (ctx: TurnContext, status: number, body: unknown) =>
  void (await ctx.sendActivity(Activity.fromObject({ type: 'invokeResponse', value: { status, body } })));

/** Action.Submit (clients without Universal Actions): a losing press gets a note in the thread, naming the person. */
async function onSubmit(ctx: TurnContext, a: IncomingActivity, orchestrator: Orchestrator): Promise<void> {
  const data = CardActionData.safeParse(a.value);
  if (!data.success) return;
  const outcome = await runCardAction(orchestrator, data.data, a);
  if (outcome.kind === 'done') return;
  const name = a.from.name ?? 'You';
  await ctx.sendActivity(Activity.fromObject({
    type: 'message',
    text: `<at>${name}</at> ${outcomeNote(outcome)}`,
    entities: [{ type: 'mention', text: `<at>${name}</at>`, mentioned: { id: a.from.id, name } }],
  }));
}

function parseJson(raw: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(raw);
    return v && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** In Teams, "request changes" takes its feedback from the card's text box. */
const outcomeNote = (o: ActOutcome) => (o.kind === 'needs_feedback' ? 'Please write what should change in the box above, then press Request changes.' : o.text);
