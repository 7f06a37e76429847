// The vocabulary the orchestrator and its edges share: chat actions (button ids), gate decisions, votes, how a
// button's value is written and read, and who acts. A leaf module: it imports nothing of the project, so every
// layer may depend on it without a cycle.
// Invariant: a button value is produced only by `buttonValue` and read only by `parseButtonValue`, per action.

/** Every button Rolecall puts in a thread. */
export const ACTION_IDS = [
  'approve', 'request_changes', 'reject', 'retry_step', 'skip_step', 'cancel_workflow',
  'plan_drop', 'plan_gate', 'plan_confirm', 'satisfaction_up', 'satisfaction_down',
  // The answer to "which of these do you need?": one id per button (Slack wants action ids unique in a message).
  'intent_pick_1', 'intent_pick_2', 'intent_pick_3', 'intent_other',
  // An approver raises a spent budget's limit once (orchestrator/budgets.ts).
  'budget_raise',
  // A new request in a 1:1 chat while a workflow runs there: add it to that workflow, or start a new one.
  'request_add', 'request_new',
] as const;
export type ActionId = (typeof ACTION_IDS)[number];

export const isActionId = (s: string): s is ActionId => (ACTION_IDS as readonly string[]).includes(s);

export type Decision = 'approved' | 'changes_requested' | 'rejected';
export type Vote = 'up' | 'down';
export type PlatformName = 'slack' | 'teams' | 'web';
/** Every chat platform: Slack, Teams, and the console's playground (web). */
export const PLATFORMS = ['slack', 'teams', 'web'] as const satisfies readonly PlatformName[];
/** How people call each platform, in messages and errors. */
export const PLATFORM_LABELS: Record<PlatformName, string> = { slack: 'Slack', teams: 'Teams', web: 'the playground' };

/** What a button points at, by action: a gate, a step, a workflow, a step of a plan, or an answer to a clarifying
 * question (the question's IntentExample and the chosen template id, or "other"). */
export type ButtonTarget =
  | { kind: 'approval'; approvalId: string }
  | { kind: 'step'; stepId: string }
  | { kind: 'workflow'; workflowId: string }
  | { kind: 'plan_step'; workflowId: string; stepKey: string }
  | { kind: 'intent_choice'; exampleId: string; choice: string }
  | { kind: 'budget'; workflowId: string; windowId: string }
  | { kind: 'pending_request'; requestId: string };

const TARGET_OF: Record<ActionId, ButtonTarget['kind']> = {
  approve: 'approval', request_changes: 'approval', reject: 'approval',
  retry_step: 'step', skip_step: 'step',
  cancel_workflow: 'workflow', plan_confirm: 'workflow', satisfaction_up: 'workflow', satisfaction_down: 'workflow',
  plan_drop: 'plan_step', plan_gate: 'plan_step',
  intent_pick_1: 'intent_choice', intent_pick_2: 'intent_choice', intent_pick_3: 'intent_choice', intent_other: 'intent_choice',
  budget_raise: 'budget',
  request_add: 'pending_request', request_new: 'pending_request',
};

/** The value a button of `action` carries. */
export function buttonValue(target: ButtonTarget): string {
  switch (target.kind) {
    case 'approval': return target.approvalId;
    case 'step': return target.stepId;
    case 'workflow': return target.workflowId;
    case 'plan_step': return `${target.workflowId}|${target.stepKey}`;
    case 'intent_choice': return `${target.exampleId}|${target.choice}`;
    case 'budget': return `${target.workflowId}|${target.windowId}`;
    case 'pending_request': return target.requestId;
  }
}

const ID = /^[A-Za-z0-9-]{1,64}$/;
const STEP_KEY = /^[^|]{1,100}$/;
const CHOICE = /^[a-z][a-z0-9_]{0,63}$/;

/** Reads a button's value for `action`; undefined when it is not one Rolecall could have made. */
export function parseButtonValue(action: ActionId, value: string): ButtonTarget | undefined {
  switch (TARGET_OF[action]) {
    case 'approval': return ID.test(value) ? { kind: 'approval', approvalId: value } : undefined;
    case 'step': return ID.test(value) ? { kind: 'step', stepId: value } : undefined;
    case 'workflow': return ID.test(value) ? { kind: 'workflow', workflowId: value } : undefined;
    case 'plan_step': {
      const [workflowId = '', stepKey = '', ...rest] = value.split('|');
      return rest.length === 0 && ID.test(workflowId) && STEP_KEY.test(stepKey) ? { kind: 'plan_step', workflowId, stepKey } : undefined;
    }
    case 'intent_choice': {
      const [exampleId = '', choice = '', ...rest] = value.split('|');
      return rest.length === 0 && ID.test(exampleId) && CHOICE.test(choice) ? { kind: 'intent_choice', exampleId, choice } : undefined;
    }
    case 'budget': {
      const [workflowId = '', windowId = '', ...rest] = value.split('|');
      return rest.length === 0 && ID.test(workflowId) && ID.test(windowId) ? { kind: 'budget', workflowId, windowId } : undefined;
    }
    case 'pending_request': return ID.test(value) ? { kind: 'pending_request', requestId: value } : undefined;
  }
}

/** What came of a decision on a gate. */
export type DecideResult =
  | { won: true }
  | { won: false; reason: 'unknown' }
  | { won: false; reason: 'not_allowed'; message: string }
  | { won: false; reason: 'vote_recorded'; votes: number; needed: number }
  | { won: false; reason: 'already_decided'; status: string; decidedBy: string | null; decidedAt: Date | null };

/** Who acts: a person in a chat (with the team and channel the click came from; empty when the platform did not say,
 * which matches no workflow), or a console user. */
export type Actor =
  | { kind: 'chat'; platform: PlatformName; userId: string; teamId: string; channelId: string }
  | { kind: 'console'; email: string };

/** How an actor is named in the audit log: "slack:U123", "teams:…", "web:<console user id>", "console:alice@example.com". */
export const actorId = (a: Actor): string => (a.kind === 'chat' ? `${a.platform}:${a.userId}` : `console:${a.email}`);

/** What came of an action, for the edge to render:
 * - done: it took effect; `confirm` says whether to tell the presser (the thread itself shows most outcomes);
 * - refused: nothing changed, and `text` says why (shown only to the presser);
 * - needs_feedback: "request changes" without feedback: the edge asks for it (a modal, a text box). */
export type ActOutcome =
  | { kind: 'done'; text: string; confirm: boolean }
  | { kind: 'refused'; text: string }
  | { kind: 'needs_feedback'; text: string };
