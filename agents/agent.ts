// Runs one role on one task under its constraints: asks for structured output, validates it, checks forbidden
// topics (lexically, then with the model as a second judge when the role asks for it), retries with the
// problems as feedback, and escalates to a person when it still fails.
// Invariant: a failing model call is retried on the role's model first (its attempts, with backoff that honours
// Retry-After), and only then on its fallback model (the fallback's attempts); every call is counted in the trace.
import { checkOutput, feedbackFor, type Violation } from './constraints';
import { measuredCall, type LlmCallRecord } from './llm/measure';
import { LlmError, type ChatRequest, type ChatResult, type ChatTurn, type LlmProvider, type ToolSpec, parseToolArguments } from './llm/provider';
import type { LlmRouter, ModelRetryPolicy, ModelRoute } from './llm/router';
import { QUESTION_FIELD, responseSchema } from './output-schema';
import { systemPrompt, userPrompt, type StepContext } from './prompt';
import type { Role } from './roles';

export type { LlmCallRecord };

export interface RecordedViolation extends Violation {
  action: 'retried' | 'escalated';
}

interface Trace {
  calls: LlmCallRecord[];
  violations: RecordedViolation[];
}

export type AgentResult = Trace &
  (
    | { kind: 'ok'; data: Record<string, unknown>; text: string; model: string }
    | { kind: 'escalate'; text: string; reasons: Violation[]; model: string }
    | { kind: 'question'; question: string }
    | { kind: 'llm_error'; error: LlmError; tried: ModelAttempts[] }
  );

/** What one model call tried before it gave up: per model, how many attempts and how the last one failed. */
export interface ModelAttempts {
  model: string;
  fallback: boolean;
  attempts: number;
  lastError: LlmError;
}

/** A failed attempt that will be followed by another (on the same model after `waitMs`, or on the fallback). */
export interface ModelRetry {
  model: string;
  attempt: number;
  maxAttempts: number;
  error: LlmError;
  waitMs: number;
  /** Set when the next attempt goes to the fallback model. */
  next: { model: string; fallback: boolean };
}

export interface AgentHooks {
  /** Told before each wait between attempts (e.g. to keep a status message current). Its failure stops nothing. */
  onRetry?(retry: ModelRetry): Promise<void> | void;
  /** Waits between attempts (tests may shorten it). */
  sleep?(ms: number): Promise<void>;
}

/** The tools a role may call while it works; calls outside its allow-list are refused (and recorded) by the runner. */
export interface ToolRunner {
  specs(role: Role): Promise<ToolSpec[]>;
  call(role: Role, name: string, args: Record<string, unknown>): Promise<string>;
}

const MAX_TOOL_ROUNDS = 3;

export async function runAgent(role: Role, router: LlmRouter, ctx: StepContext, tools?: ToolRunner, hooks: AgentHooks = {}): Promise<AgentResult> {
  const route = router.forRole(role);
  const trace: Trace = { calls: [], violations: [] };
  const call = modelCaller(route, trace, hooks);
  const base: ChatRequest = {
    model: route.model,
    temperature: route.temperature,
    system: systemPrompt(role),
    user: userPrompt(ctx),
    responseSchema: { name: `${role.role_id}_output`, schema: responseSchema(role.constraints.required_outputs) },
    ...(ctx.images?.length && route.provider.capabilities.images ? { images: ctx.images } : {}),
  };
  let feedback = '';
  for (let attempt = 0; ; attempt++) {
    const req = feedback ? { ...base, user: `${base.user}\n\n## Problems with your last answer\n${feedback}` } : base;
    const answer = await converse(call, route.provider, req, role, tools);
    if ('failed' in answer) return { ...trace, kind: 'llm_error', error: answer.failed, tried: answer.tried };
    const checked = checkOutput(role, answer.text);
    const violations = checked.ok ? await judge(role, route.provider, route.model, judgedText(checked.text, checked.data), trace) : checked.violations;
    if (violations.length === 0 && checked.ok) {
      const { [QUESTION_FIELD]: question, ...data } = checked.data;
      if (ctx.mayAsk && typeof question === 'string' && question.trim()) return { ...trace, kind: 'question', question: question.trim() };
      return { ...trace, kind: 'ok', data, text: checked.text, model: answer.model };
    }
    const last = attempt >= role.constraints.max_retries;
    trace.violations.push(...violations.map((v) => ({ ...v, action: last ? ('escalated' as const) : ('retried' as const) })));
    if (last) return { ...trace, kind: 'escalate', text: checked.text, reasons: violations, model: answer.model };
    feedback = feedbackFor(violations);
  }
}

/** One answer from the model, after up to MAX_TOOL_ROUNDS rounds of tool calls. */
async function converse(call: ModelCaller, provider: LlmProvider, req: ChatRequest, role: Role, tools?: ToolRunner): Promise<ChatResult | CallFailure> {
  const specs = tools && provider.capabilities.tools ? await tools.specs(role) : [];
  const turns: ChatTurn[] = [];
  for (let round = 0; ; round++) {
    const offer = specs.length && round < MAX_TOOL_ROUNDS ? specs : undefined;
    const answer = await call({ ...req, tools: offer, turns: turns.length ? turns : undefined });
    if ('failed' in answer || !answer.toolCalls?.length || !tools) return answer;
    turns.push({ role: 'assistant', toolCalls: answer.toolCalls });
    for (const c of answer.toolCalls) turns.push({ role: 'tool', toolCallId: c.id, content: await tools.call(role, c.name, parseToolArguments(c.arguments)) });
  }
}

type CallFailure = { failed: LlmError; tried: ModelAttempts[] };
type ModelCaller = (req: ChatRequest) => Promise<ChatResult | CallFailure>;

/** Calls the role's model with retries: its attempts with backoff, then the fallback model's attempts. Once the
 *  fallback has answered, later calls of the same run go to it directly (the role's model just failed repeatedly). */
function modelCaller(route: ModelRoute, trace: Trace, hooks: AgentHooks): ModelCaller {
  const models = [{ model: route.model, fallback: false, max: route.retry.attempts }];
  if (route.fallbackModel && route.retry.fallbackAttempts > 0) models.push({ model: route.fallbackModel, fallback: true, max: route.retry.fallbackAttempts });
  const sleep = hooks.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let from = 0;
  return async (req) => {
    const tried: ModelAttempts[] = [];
    for (let m = from; m < models.length; m++) {
      const { model, fallback, max } = models[m]!;
      for (let attempt = 1; attempt <= max; attempt++) {
        const result = await timedCall(route.provider, { ...req, model }, trace);
        if (!(result instanceof LlmError)) {
          from = m;
          return result;
        }
        const entry = tried.find((t) => t.model === model && t.fallback === fallback);
        if (entry) Object.assign(entry, { attempts: attempt, lastError: result });
        else tried.push({ model, fallback, attempts: attempt, lastError: result });
        if (!result.retryable) return { failed: result, tried }; // a 400 or 401 fails the same way on any model
        const next = attempt < max ? { model, fallback } : models[m + 1];
        if (!next) return { failed: result, tried };
        const waitMs = attempt < max ? retryDelay(route.retry, attempt, result) : 0;
        try {
          await hooks.onRetry?.({ model, attempt, maxAttempts: max, error: result, waitMs, next: { model: next.model, fallback: next.fallback } });
        } catch { /* telling people about a retry must never stop it */ }
        if (waitMs > 0) await sleep(waitMs);
      }
    }
    const last = tried.at(-1);
    return { failed: last?.lastError ?? new LlmError('no model to call', false), tried };
  };
}

/** Exponential backoff with 20% jitter, never shorter than the server's Retry-After, never longer than maxWaitMs. */
export function retryDelay(policy: ModelRetryPolicy, attempt: number, error: LlmError): number {
  const backoff = policy.backoffMs * 2 ** (attempt - 1) * (0.8 + Math.random() * 0.4);
  return Math.round(Math.min(policy.maxWaitMs, Math.max(backoff, error.retryAfterMs ?? 0)));
}

async function timedCall(provider: LlmProvider, req: ChatRequest, trace: Trace): Promise<ChatResult | LlmError> {
  const m = await measuredCall(provider, req);
  trace.calls.push(m.record);
  return m.ok ? m.result : m.error;
}

const JUDGE_SCHEMA = {
  type: 'object',
  properties: { violations: { type: 'array', items: { type: 'object', properties: { topic_id: { type: 'string' }, reason: { type: 'string' } }, required: ['topic_id', 'reason'] } } },
  required: ['violations'],
};

/** What the judge reads: the output and, when there is one, the question that would be posted with it. */
function judgedText(text: string, data: Record<string, unknown>): string {
  const q = data[QUESTION_FIELD];
  return typeof q === 'string' && q.trim() ? `${text}\n\n${QUESTION_FIELD}: ${q.trim()}` : text;
}

/** A topic as the judge sees it: its description, and a few of its examples so that it is judged by meaning. */
function topicForJudge(t: Role['constraints']['forbidden_topics'][number]): string {
  const quote = (xs: string[] | undefined) => (xs ?? []).slice(0, 3).map((x) => JSON.stringify(x.slice(0, 300))).join('; ');
  const lines = [`- ${t.id}: ${t.description}`];
  if (t.examples?.violating.length) lines.push(`  counts, e.g.: ${quote(t.examples.violating)}`);
  if (t.examples?.clean.length) lines.push(`  does not count, e.g.: ${quote(t.examples.clean)}`);
  return lines.join('\n');
}

/** The model as a second judge of forbidden topics, for roles that ask for it (never the offline demo model). */
async function judge(role: Role, provider: LlmProvider, model: string, text: string, trace: Trace): Promise<Violation[]> {
  const topics = role.constraints.forbidden_topics;
  if (!role.constraints.model_judge || !provider.capabilities.reasoning || topics.length === 0) return [];
  const answer = await timedCall(provider, {
    model,
    temperature: 0,
    system: 'You review text written by a team role and report whether it strays into any of the forbidden topics listed. Report only clear cases.',
    user: `Forbidden topics:\n${topics.map(topicForJudge).join('\n')}\n\nText:\n${text}`,
    responseSchema: { name: 'topic_review', schema: JUDGE_SCHEMA },
  }, trace);
  if (answer instanceof LlmError) return []; // the lexical check already passed; a failed second opinion blocks nothing
  try {
    const parsed = JSON.parse(answer.text) as { violations?: { topic_id: string; reason: string }[] };
    const known = new Set(topics.map((t) => t.id));
    return (parsed.violations ?? []).filter((v) => known.has(v.topic_id)).map((v) => ({ kind: 'forbidden_topic' as const, detail: `${v.topic_id}: ${v.reason} (model judge)`, source: 'judge' as const }));
  } catch {
    return [];
  }
}
