// A step's status as the workflow page shows it: once a workflow was rejected or cancelled, its steps keep the status
// they had (a step that never ran stays `pending` in the database), so the page derives what became of each one.
// Invariant: a step of a workflow that is still active, or completed, is shown exactly as stored.
import type { StepStatus, WorkflowStatus } from '../../generated/prisma/client';

export type ShownStepStatus = StepStatus | 'cancelled' | 'rejected';

/** What became of a step: `skipped` (never ran), `cancelled` (stopped while it ran or waited), `rejected` (its gate
 *  was rejected), else its stored status. `rejectedGate`: the step's latest gate was rejected. */
export function finalStepStatus(step: StepStatus, workflow: WorkflowStatus, rejectedGate = false): ShownStepStatus {
  if (workflow !== 'rejected' && workflow !== 'cancelled') return step;
  if (rejectedGate) return 'rejected';
  switch (step) {
    case 'pending': return 'skipped';
    case 'running': case 'waiting_input': case 'awaiting_approval': return 'cancelled';
    default: return step; // completed, skipped, failed: final already
  }
}

/** A word on why, next to the derived status. */
export function finalStepNote(shown: ShownStepStatus, stored: StepStatus, workflow: WorkflowStatus): string {
  if (shown === stored) return '';
  if (shown === 'skipped') return workflow === 'rejected' ? 'not run: the workflow was rejected' : 'not run: the workflow was cancelled';
  if (shown === 'cancelled') return `stopped while ${stored.replace('_', ' ')}: the workflow was ${workflow}`;
  return 'its output was rejected at the gate';
}
