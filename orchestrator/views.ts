// Message views the orchestrator posts. Pure functions: platform rendering happens in bot/.
import { DEMO_NOTICE } from '../agents/llm/demo';
import type { Role } from '../agents/roles';
import type { MessageView, Persona } from './chat';

export const ROLECALL_PERSONA: Persona = { displayName: 'Rolecall', iconEmoji: ':robot_face:' };

export const personaOf = (role: Role): Persona => ({
  displayName: role.persona.display_name,
  iconEmoji: role.persona.icon_emoji,
  iconUrl: role.persona.icon_url,
});

export interface PlanStep {
  displayName: string;
  gateAfter: boolean;
}

export function planView(request: string, steps: PlanStep[]): MessageView {
  const lines = steps.map((s, i) => `${i + 1}. *${s.displayName}*${s.gateAfter ? '  →  :vertical_traffic_light: approval gate' : ''}`);
  return {
    text: `:clipboard: *Plan* for: _${truncate(request, 300)}_\n${lines.join('\n')}`,
    context: 'Each role posts here as itself. At a gate, approve, request changes or reject with the buttons.',
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
      { id: 'approve', label: 'Approve', value: approvalId, style: 'primary' },
      { id: 'request_changes', label: 'Request changes', value: approvalId },
      { id: 'reject', label: 'Reject', value: approvalId, style: 'danger' },
    ],
  };
}

const DECISION_WORDS = { approved: ':white_check_mark: Approved', changes_requested: ':pencil2: Changes requested', rejected: ':no_entry: Rejected' } as const;

export function decidedGateView(role: Role, decision: keyof typeof DECISION_WORDS, who: string, at: Date, feedback?: string | null): MessageView {
  const fb = feedback ? `\n> ${truncate(feedback, 500).replace(/\n/g, '\n> ')}` : '';
  return {
    text: `${DECISION_WORDS[decision]} by ${who}: *${role.persona.display_name}* output.${fb}`,
    context: `decided ${at.toISOString().replace('T', ' ').slice(0, 19)} UTC`,
  };
}

export function failedView(role: Role, error: string, stepId: string, attempts: number): MessageView {
  return {
    text: `:x: *${role.persona.display_name}* could not finish after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${truncate(error, 500)}\nThe workflow is paused; nothing is lost. Press Retry to run this step again.`,
    actions: [{ id: 'retry_step', label: 'Retry', value: stepId, style: 'primary' }],
  };
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
      { id: 'satisfaction_up', label: '👍 Helpful', value: workflowId },
      { id: 'satisfaction_down', label: '👎 Not helpful', value: workflowId },
    ],
  };
}

export function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
