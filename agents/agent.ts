// Runs one role on one task under its constraints: asks for structured output, validates it, checks forbidden
// topics (lexically, then with the model as a second judge when the role asks for it), retries with the
// problems as feedback, and escalates to a person when it still fails.
import { checkOutput, feedbackFor, type Violation } from './constraints';
import { measuredCall, type LlmCallRecord } from './llm/measure';
import { LlmError, type ChatRequest, type ChatResult, type ChatTurn, type LlmProvider, type ToolSpec, parseToolArguments } from './llm/provider';
import type { LlmRouter } from './llm/router';
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
    | { kind: 'llm_error'; error: LlmError }
  );

/** The tools a role may call while it works; calls outside its allow-list are refused (and recorded) by the runner. */
export interface ToolRunner {
  specs(role: Role): Promise<ToolSpec[]>;
  call(role: Role, name: string, args: Record<string, unknown>): Promise<string>;
}

const MAX_TOOL_ROUNDS = 3;

export async function runAgent(role: Role, router: LlmRouter, ctx: StepContext, tools?: ToolRunner): Promise<AgentResult> {
  const route = router.forRole(role);
  const trace: Trace = { calls: [], violations: [] };
  const base: ChatRequest = {
    model: route.model,
    temperature: route.temperature,
    system: systemPrompt(role),
    user: userPrompt(ctx),
    responseSchema: { name: `${role.role_id}_output`, schema: responseSchema(role.constraints.required_outputs) },
  };
  let feedback = '';
  for (let attempt = 0; ; attempt++) {
    const req = feedback ? { ...base, user: `${base.user}\n\n## Problems with your last answer\n${feedback}` } : base;
    const answer = await converse(route.provider, req, role, trace, tools);
    if (answer instanceof LlmError) return { ...trace, kind: 'llm_error', error: answer };
    const checked = checkOutput(role, answer.text);
    const violations = checked.ok ? await judge(role, route.provider, route.model, checked.text, trace) : checked.violations;
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
async function converse(provider: LlmProvider, req: ChatRequest, role: Role, trace: Trace, tools?: ToolRunner): Promise<ChatResult | LlmError> {
  const specs = tools && provider.capabilities.tools ? await tools.specs(role) : [];
  const turns: ChatTurn[] = [];
  for (let round = 0; ; round++) {
    const offer = specs.length && round < MAX_TOOL_ROUNDS ? specs : undefined;
    const answer = await callWithFallback(provider, { ...req, tools: offer, turns: turns.length ? turns : undefined }, role.llm_config.fallback_model, trace);
    if (answer instanceof LlmError || !answer.toolCalls?.length || !tools) return answer;
    turns.push({ role: 'assistant', toolCalls: answer.toolCalls });
    for (const call of answer.toolCalls) turns.push({ role: 'tool', toolCallId: call.id, content: await tools.call(role, call.name, parseToolArguments(call.arguments)) });
  }
}

async function callWithFallback(provider: LlmProvider, req: ChatRequest, fallbackModel: string | undefined, trace: Trace): Promise<ChatResult | LlmError> {
  const first = await timedCall(provider, req, trace);
  if (!(first instanceof LlmError) || !first.retryable || !fallbackModel || !provider.capabilities.reasoning) return first;
  return timedCall(provider, { ...req, model: fallbackModel }, trace);
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

/** The model as a second judge of forbidden topics, for roles that ask for it (never the offline demo model). */
async function judge(role: Role, provider: LlmProvider, model: string, text: string, trace: Trace): Promise<Violation[]> {
  const topics = role.constraints.forbidden_topics;
  if (!role.constraints.model_judge || !provider.capabilities.reasoning || topics.length === 0) return [];
  const answer = await timedCall(provider, {
    model,
    temperature: 0,
    system: 'You review text written by a team role and report whether it strays into any of the forbidden topics listed. Report only clear cases.',
    user: `Forbidden topics:\n${topics.map((t) => `- ${t.id}: ${t.description}`).join('\n')}\n\nText:\n${text}`,
    responseSchema: { name: 'topic_review', schema: JUDGE_SCHEMA },
  }, trace);
  if (answer instanceof LlmError) return []; // the lexical check already passed; a failed second opinion blocks nothing
  try {
    const parsed = JSON.parse(answer.text) as { violations?: { topic_id: string; reason: string }[] };
    const known = new Set(topics.map((t) => t.id));
    return (parsed.violations ?? []).filter((v) => known.has(v.topic_id)).map((v) => ({ kind: 'forbidden_topic' as const, detail: `${v.topic_id}: ${v.reason} (model judge)` }));
  } catch {
    return [];
  }
}
