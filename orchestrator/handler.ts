// Dispatches queue jobs to the orchestrator. The last failed attempt of a step fails it visibly in its thread.
// Infrastructure failures (InfraError and what asInfraError recognises) are not attempts: they go back to the queue
// untouched (queue.ts delays the job without using an attempt), so a person never sees them counted in the thread.
import { handleClick } from './clicks';
import type { EngineDeps } from './deps';
import { applyDecision } from './gates';
import { runGateTimer } from './gate-timers';
import { handleInbound } from './intake';
import { deliverOutputFiles } from './outputs';
import { jobId, type JobData } from './jobs';
import { drainChannel } from './outbox';
import type { JobContext, JobHandler } from './queue';
import { failStep, isPermanent, noteRetry, runStep } from './steps';
import { errorMessage, RetryLaterError } from '../agents/errors';
import { isInfraError } from './infra';

export function createJobHandler(deps: EngineDeps): JobHandler {
  return async (data: JobData, ctx: JobContext) => {
    switch (data.kind) {
      case 'intake':
        return handleInbound(deps, data.message);
      case 'decision':
        return applyDecision(deps, data.approvalId);
      case 'step':
        return runStepWithFailure(deps, data, ctx);
      case 'click':
        return handleClick(deps, data);
      case 'drain':
        return drainChannel(deps, data.channel, jobId(data));
      case 'outputs':
        return deliverOutputFiles(deps, data); // a role's files: built, stored, uploaded once (outputs.ts)
      case 'gate_timer':
        return runGateTimer(deps, data); // a gate's reminder or expiry (gate-timers.ts)
    }
  };
}

async function runStepWithFailure(deps: EngineDeps, data: Extract<JobData, { kind: 'step' }>, ctx: JobContext): Promise<void> {
  try {
    // PII redaction and local-models-only of the step's channel/workspace apply to its model calls (issue 18): read by
    // the statement that starts the step and applied by runStep (steps.ts), so the step costs no lookup of its own
    await runStep(deps, data, ctx);
  } catch (e) {
    if (isInfraError(e)) throw e; // the database, Redis or the chat platform: retried until it is back
    if (e instanceof RetryLaterError) throw e; // a rate limit or a spent budget: delayed, not an attempt (queue.ts)
    const message = errorMessage(e);
    if (isPermanent(e) || ctx.attempt >= ctx.maxAttempts) return failStep(deps, data.stepId, message, ctx.attempt, e);
    await noteRetry(deps, data.stepId, message, ctx).catch((err) => deps.log.warn('could not update status message', { error: String(err) }));
    throw e;
  }
}
