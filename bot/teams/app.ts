// The Teams edge: POST /api/messages on our Hono server. The Agents SDK authenticates the request (JWT), we check
// the serviceurl claim, validate the activity, and turn it into orchestrator calls. Nothing slow runs here: messages
// are queued, and everything the workflow posts later goes out proactively from the workers.
import { Activity } from '@microsoft/agents-activity';
import type { TurnContext } from '@microsoft/agents-hosting';
import { Hono } from 'hono';
import type { Logger, Orchestrator } from '../../orchestrator';
import { CardActionData, ExecuteInvokeValue, filesOf, IncomingActivity, isMentioned, plainText, sentAtOf, teamIdOf, userIdOf } from './activity';
import { cardPress } from './actions';
import type { TeamsAdapter } from './adapter';
import { neutraliseMentions, plainName, toTeamsMessage } from './cards';
import { helpView, ROLECALL_PERSONA } from '../../orchestrator/views';
import { referenceOf } from './chat';
import { recordedResponse, sdkRequest, type SdkRequest } from './http';
import { replyConversationId, threadKeyOf } from './ids';
import type { TeamsStore } from './store';
import { errorMessage, errorStack } from '../../agents/errors';
import { isInfraError } from '../../orchestrator/infra';

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
    if (!authorized) return unauthorized(out.toResponse(401), log);
    if (!serviceUrlMatchesClaim(req, body)) return Response.json({ error: 'serviceUrl does not match the token' }, { status: 401 });
    const parsed = IncomingActivity.safeParse(body);
    if (!parsed.success) return Response.json({ error: 'invalid activity', issues: parsed.error.issues.map((i) => i.path.join('.')) }, { status: 400 });
    try {
      await teams.adapter.process(req as never, out.res as never, (ctx) => onActivity(ctx, parsed.data, orchestrator, store, log));
    } catch (e) {
      if (isInfraError(e)) {
        log.warn('teams activity could not be kept (Redis and PostgreSQL unreachable): answered 503 so that it is sent again', { error: errorMessage(e) });
        return new Response('temporarily unavailable', { status: 503 });
      }
      log.error('teams turn failed', { error: errorStack(e) });
      return new Response('internal error', { status: 500 });
    }
    return out.toResponse(200);
  });
  return hono;
}

/** The SDK's refusal names what failed (a key-set fetch error can name hosts): logged, and answered generically. */
async function unauthorized(refusal: Response, log: Logger): Promise<Response> {
  log.info('teams request refused: not authenticated', { status: refusal.status, detail: (await refusal.text()).slice(0, 500) });
  return Response.json({ error: refusal.status === 405 ? 'method not allowed' : 'unauthorized' }, { status: refusal.status === 405 ? 405 : 401 });
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
  if (a.type === 'invoke' && a.name === 'adaptiveCard/action') return onExecute(ctx, a, orchestrator, store, log);
  if (a.type !== 'message' || a.from.id === a.recipient.id || !a.id) return;
  await saveName(store, a, log);
  if (a.value !== undefined && !a.text) return onSubmit(ctx, a, orchestrator, store, log);
  const mentioned = isMentioned(a);
  if (mentioned && isHelp(a)) return void (await ctx.sendActivity(Activity.fromObject(toTeamsMessage(ROLECALL_PERSONA, helpView(), new Map()))));
  const key = threadKeyOf(a.id, a.conversation);
  await store.saveReference(key, referenceOf(a, replyConversationId(key)));
  const files = filesOf(a);
  await orchestrator.receive({ platform: 'teams', teamId: teamIdOf(a), ...key, sentAt: sentAtOf(a), userId: userIdOf(a), text: plainText(a), mentioned, ...(files.length ? { files } : {}) });
  if (mentioned) await ctx.sendActivity(Activity.fromObject({ type: 'typing' })).catch((e) => log.warn('teams typing indicator failed', { error: String(e) }));
}

/** Universal Actions: the press is queued durably and answered at once with a neutral note (the card stays); a worker
 * then runs it, refreshes the card for everyone when it decided something, and tells the person in a reply that
 * mentions them when it was refused. Teams wants an invoke response within seconds, so nothing here waits for the
 * decision. Feedback left empty is asked for at once, from the card's data alone. */
async function onExecute(ctx: TurnContext, a: IncomingActivity, orchestrator: Orchestrator, store: TeamsStore, log: Logger): Promise<void> {
  const invoke = ExecuteInvokeValue.safeParse(a.value);
  const data = invoke.success ? CardActionData.safeParse(invoke.data.action.data) : undefined;
  if (!data?.success) return invokeResponse(ctx, 400, { statusCode: 400, type: 'application/vnd.microsoft.error', value: { code: 'BadRequest', message: 'unknown card action' } });
  if (data.data.rolecall.action === 'request_changes' && !data.data.feedback?.trim()) return invokeResponse(ctx, 200, messageAnswer(FEEDBACK_NEEDED));
  await saveName(store, a, log);
  await rememberPressThread(store, a, log);
  const receipt = await orchestrator.click(cardPress(data.data, a));
  return invokeResponse(ctx, 200, messageAnswer(receipt.text));
}

const messageAnswer = (text: string) => ({ statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: text });

const invokeResponse = async (ctx: TurnContext, status: number, body: unknown) =>
  void (await ctx.sendActivity(Activity.fromObject({ type: 'invokeResponse', value: { status, body } })));

/** Action.Submit (clients without Universal Actions): queued like an Execute press; the outcome comes as a reply that
 * mentions the person. */
async function onSubmit(ctx: TurnContext, a: IncomingActivity, orchestrator: Orchestrator, store: TeamsStore, log: Logger): Promise<void> {
  const data = CardActionData.safeParse(a.value);
  if (!data.success) return;
  if (data.data.rolecall.action === 'request_changes' && !data.data.feedback?.trim()) return void (await ctx.sendActivity(mentionNote(a, FEEDBACK_NEEDED)));
  await rememberPressThread(store, a, log);
  await orchestrator.click(cardPress(data.data, a));
}

/** The conversation reference of the thread a press came from, so that the worker can tell the person the outcome
 * there, also when it is not the workflow's thread (a refused press from another conversation). A failure to store it
 * does not stop the press: only that note is then lost. */
async function rememberPressThread(store: TeamsStore, a: IncomingActivity, log: Logger): Promise<void> {
  const key = threadKeyOf(a.id ?? '', a.conversation);
  await store.saveReference(key, referenceOf(a, replyConversationId(key))).catch((e) => log.warn('could not save a Teams conversation reference', { error: errorMessage(e) }));
}

/** The person's display name, for later mentions; a database outage does not stop the press (it is only a name). */
async function saveName(store: TeamsStore, a: IncomingActivity, log: Logger): Promise<void> {
  if (a.from.name) await store.saveName(userIdOf(a), a.from.name).catch((e) => log.warn('could not save a Teams display name', { error: errorMessage(e) }));
}

function mentionNote(a: IncomingActivity, text: string): Activity {
  const name = plainName(a.from.name ?? 'You');
  return Activity.fromObject({
    type: 'message',
    text: `<at>${name}</at> ${neutraliseMentions(text)}`,
    entities: [{ type: 'mention', text: `<at>${name}</at>`, mentioned: { id: a.from.id, name } }],
  });
}

/** The manifest's declared `help` command (picked from the command menu, or typed), answered here and never a request. */
const isHelp = (a: IncomingActivity): boolean => /^\s*\/?help\s*[.!?]?\s*$/i.test(plainText(a));

function parseJson(raw: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(raw);
    return v && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** In Teams, "request changes" takes its feedback from the card's text box. */
const FEEDBACK_NEEDED = 'Please write what should change in the box above, then press Request changes.';
