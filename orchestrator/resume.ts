// After a restart, every running workflow continues from what the database says: steps whose job may be lost are
// enqueued again (job ids are deterministic, so a job that still exists is not duplicated), gates are re-posted if
// their post never went out, and decided gates are applied.
import { resumeOutputFiles } from './outputs';
import type { EngineDeps } from './deps';
import { advanceWorkflow, continueAfter } from './steps';
import { ACTIVE_STATUSES } from './workflow/transitions';

export async function resumeWorkflows(deps: EngineDeps): Promise<number> {
  const workflows = await deps.prisma.workflow.findMany({ where: { status: { in: [...ACTIVE_STATUSES] } }, include: { steps: true } });
  for (const wf of workflows) {
    for (const s of wf.steps) {
      if (s.status === 'running') await deps.queue.enqueue({ kind: 'step', stepId: s.id, revision: s.revision, run: s.runCount });
      if (s.status === 'awaiting_approval') await continueAfter(deps, s.id);
    }
    await advanceWorkflow(deps, wf.id);
  }
  if (workflows.length) deps.log.info(`resumed ${workflows.length} running workflow(s) from the database`);
  await resumeOutputFiles(deps); // a role's files whose job was lost in a crash (outputs.ts)
  return workflows.length;
}
