// Message views the orchestrator posts. Pure functions: platform rendering happens in bot/.
import { DEMO_NOTICE } from '../agents/llm/demo';
import type { Role } from '../agents/roles';
import type { MessageView, Persona } from './chat';
import { buttonValue, type DecideResult } from './contract';

export const ROLECALL_PERSONA: Persona = { displayName: 'Rolecall', iconEmoji: ':robot_face:' };

export const personaOf = (role: Role): Persona => ({
  displayName: role.persona.display_name,
  iconEmoji: role.persona.icon_emoji,
  iconUrl: role.persona.icon_url,
});

export interface PlanStep {
  key: string;
  displayName: string;
  gateAfter: boolean;
  after: string[];
}

export interface PlanInfo {
  request: string;
  templateName: string;
  intent: { intent: string; confidence: number; reason: string; source: string } | null;
  steps: PlanStep[];
  /** Set while the plan waits for a person to confirm it: the plan gets edit buttons. */
  editable?: { workflowId: string };
}

export function planView(plan: PlanInfo): MessageView {
  const lines = plan.steps.map((s, i) => {
    const after = s.after.length ? `  _(after ${s.after.join(' and ')})_` : '';
    return `${i + 1}. *${s.displayName}*${after}${s.gateAfter ? '  →  :vertical_traffic_light: approval gate' : ''}`;
  });
  const why = plan.intent ? `\n_Intent: ${plan.intent.intent} (${Math.round(plan.intent.confidence * 100)}% ${plan.intent.source}): ${truncate(plan.intent.reason, 300)}_` : '';
  const view: MessageView = {
    text: `:clipboard: *Plan: ${plan.templateName}* for _${truncate(plan.request, 300)}_${why}\n${lines.join('\n')}`,
    context: plan.editable
      ? 'No template fits exactly, so this plan was assembled from the roles\' capabilities. Edit it, then press Run this plan.'
      : 'Each role posts here as itself. At a gate, approve, request changes or reject with the buttons.',
  };
  if (plan.editable) {
    const id = plan.editable.workflowId;
    view.actions = [
      ...plan.steps.map((s) => ({ id: 'plan_drop' as const, label: `Drop ${s.displayName}`, value: buttonValue({ kind: 'plan_step', workflowId: id, stepKey: s.key }) })),
      ...plan.steps.map((s) => ({ id: 'plan_gate' as const, label: `${s.gateAfter ? 'No gate' : 'Gate'} after ${s.displayName}`, value: buttonValue({ kind: 'plan_step', workflowId: id, stepKey: s.key }) })),
      { id: 'plan_confirm', label: 'Run this plan', value: buttonValue({ kind: 'workflow', workflowId: id }), style: 'primary' },
    ];
  }
  return view;
}

export function noPlanView(templates: { name: string; description: string }[]): MessageView {
  return {
    text: `:thinking_face: I could not tell which kind of work you need, and no role's capabilities match. I can run:\n${templates.map((t) => `• *${t.name}*: ${t.description}`).join('\n')}\nMention me again with a little more detail.`,
  };
}

export function workingView(role: Role, attempt: number, maxAttempts: number, revision: number): MessageView {
  const rev = revision > 1 ? ` (revision ${revision})` : '';
  return { text: `:hourglass_flowing_sand: *${role.persona.display_name}* is working${rev}…`, context: `attempt ${attempt} of ${maxAttempts}` };
}

export function retryingView(role: Role, attempt: number, maxAttempts: number, error: string): MessageView {
  return { text: `:warning: *${role.persona.display_name}* hit an error and will try again: ${truncate(error, 300)}`, context: `attempt ${attempt} of ${maxAttempts} failed` };
}

export function doneView(role: Role, seconds: number): MessageView {
  return { text: `:white_check_mark: *${role.persona.display_name}* finished in ${seconds.toFixed(1)} s.` };
}

export function stoppedView(role: Role): MessageView {
  return { text: `:x: *${role.persona.display_name}* stopped: see below.` };
}

export function outputView(text: string, model: string, escalation: string | null = null): MessageView {
  const held = escalation ? `:warning: *Held for review:* this output broke the role's constraints.\n` : '';
  return { text: `${held}${text}`, context: model === 'demo' ? `model: demo. ${DEMO_NOTICE}` : `model: ${model}` };
}

export function gateView(role: Role, approvalId: string, escalation: string | null = null): MessageView {
  const why = escalation ? `\n:warning: It did not meet its constraints after ${role.constraints.max_retries + 1} tries:\n${escalation.split('\n').map((l) => `• ${truncate(l, 300)}`).join('\n')}\nApprove it anyway, request changes, or reject.` : '';
  return {
    text: `:vertical_traffic_light: Please review the *${role.persona.display_name}* output above.${why}`,
    actions: [
      { id: 'approve', label: 'Approve', value: buttonValue({ kind: 'approval', approvalId }), style: 'primary' },
      { id: 'request_changes', label: 'Request changes', value: buttonValue({ kind: 'approval', approvalId }) },
      { id: 'reject', label: 'Reject', value: buttonValue({ kind: 'approval', approvalId }), style: 'danger' },
    ],
  };
}

const DECISION_WORDS = { approved: ':white_check_mark: Approved', changes_requested: ':pencil2: Changes requested', rejected: ':no_entry: Rejected' } as const;

export function decidedGateView(role: Role, decision: keyof typeof DECISION_WORDS, who: string, at: Date, feedback?: string | null): MessageView {
  const fb = feedback ? `\n> ${truncate(feedback, 500).replace(/\n/g, '\n> ')}` : '';
  return {
    text: `${DECISION_WORDS[decision]} by ${who}: *${role.persona.display_name}* output.${fb}`,
    context: `decided ${utcStamp(at)}`,
  };
}

export function failedView(role: Role, error: string, stepId: string, attempts: number, workflowId: string): MessageView {
  return {
    text: `:x: *${role.persona.display_name}* could not finish after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${truncate(error, 500)}\nThe workflow is paused; nothing is lost. Retry this step, skip it, or cancel the workflow.`,
    actions: [
      { id: 'retry_step', label: 'Retry', value: buttonValue({ kind: 'step', stepId }), style: 'primary' },
      { id: 'skip_step', label: 'Skip', value: buttonValue({ kind: 'step', stepId }) },
      { id: 'cancel_workflow', label: 'Cancel workflow', value: buttonValue({ kind: 'workflow', workflowId }), style: 'danger' },
    ],
  };
}

export function skippedView(role: Role, who: string): MessageView {
  return { text: `:fast_forward: *${role.persona.display_name}* step skipped by ${who}.` };
}

export function cancelledView(who: string): MessageView {
  return { text: `:octagonal_sign: Workflow cancelled by ${who}.` };
}

export function handoverView(from: Role, to: Role, error: string): MessageView {
  return { text: `:arrow_right_hook: *${from.persona.display_name}* could not finish (${truncate(error, 200)}); *${to.persona.display_name}* takes this step over.` };
}

export function waitingView(role: Role): MessageView {
  return { text: `:raised_hand: *${role.persona.display_name}* is waiting for an answer in this thread.` };
}

export function questionView(role: Role, question: string): MessageView {
  return { text: `:question: ${truncate(question, 2000)}`, context: `${role.persona.display_name} needs this to go on: reply in this thread.` };
}

export function retriedView(role: Role, who: string): MessageView {
  return { text: `:repeat: *${role.persona.display_name}* step retried by ${who}.` };
}

export function rejectionSummaryView(done: string[], rejectedRole: string, notRun: string[], who: string): MessageView {
  const lines = [
    `:no_entry: *Workflow stopped.* ${who} rejected the *${rejectedRole}* output.`,
    done.length ? `Completed: ${done.join(', ')}` : 'Completed: nothing before the rejected step',
    notRun.length ? `Not run: ${notRun.join(', ')}` : '',
  ];
  return { text: lines.filter(Boolean).join('\n') };
}

export function satisfactionView(workflowId: string): MessageView {
  return {
    text: ':checkered_flag: *Workflow complete.* Was this helpful?',
    actions: [
      { id: 'satisfaction_up', label: '👍 Helpful', value: buttonValue({ kind: 'workflow', workflowId }) },
      { id: 'satisfaction_down', label: '👎 Not helpful', value: buttonValue({ kind: 'workflow', workflowId }) },
    ],
  };
}

export const utcStamp = (d: Date) => `${d.toISOString().replace('T', ' ').slice(0, 19)} UTC`;

const DECIDED_WORDS: Record<string, string> = { approved: 'approved', changes_requested: 'sent back for changes', rejected: 'rejected' };

/** What to tell someone whose click did not decide a gate; `decidedBy` is how the platform names who did decide. */
export function notDecidedText(result: Exclude<DecideResult, { won: true }>, decidedBy: string): string {
  if (result.reason === 'unknown') return 'This approval request no longer exists.';
  if (result.reason === 'not_allowed') return result.message;
  if (result.reason === 'vote_recorded') return `Your approval is recorded: ${result.votes} of ${result.needed} approvals needed.`;
  const when = result.decidedAt ? ` at ${utcStamp(result.decidedAt)}` : '';
  return `Already decided: ${DECIDED_WORDS[result.status] ?? result.status} by ${decidedBy}${when}.`;
}

export function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
