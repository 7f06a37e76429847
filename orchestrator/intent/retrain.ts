// The retrain check before each decision, without a query of its own: intake's look (orchestrator/intake.ts) reads
// the accepted examples' version (ACCEPTED_EXAMPLES_VERSION: their count and latest review) with the thread, and the
// classifier is retrained here only when that version is not the one it was last trained on in this process.
// Invariant (README, Intent): accepted examples train the classifier before the next decision in every worker: the
// version is read with every message that may start a workflow, so a review applies from the next decision.
import { Prisma } from '../../generated/prisma/client';
import { acceptedExamples } from '../clarify';
import type { EngineDeps } from '../deps';

/** The accepted examples' version as one text column (count and latest review time), for intake's look. */
export const ACCEPTED_EXAMPLES_VERSION = Prisma.sql`(SELECT count(*)::text || ':' || coalesce(max("reviewedAt")::text, '')
  FROM "IntentExample" WHERE review = 'accepted')`;

const trained = new WeakMap<object, string>();

/** Retrains the classifier when the accepted examples changed since it last trained, reading their version now (one
 *  small query): for a caller without intake's look (the console, after a review). */
export async function refreshTraining(deps: Pick<EngineDeps, 'prisma' | 'planner' | 'log'>): Promise<void> {
  if (!deps.planner.retrain) return;
  const [row] = await deps.prisma.$queryRaw<{ version: string }[]>`SELECT ${ACCEPTED_EXAMPLES_VERSION} AS version`;
  await retrainIfChanged(deps, row!.version);
}

/** Retrains the planner's classifier with the accepted examples when `version` (ACCEPTED_EXAMPLES_VERSION, read just
 *  now) is not the one it was trained on; nothing when the planner cannot learn. */
export async function retrainIfChanged(deps: Pick<EngineDeps, 'prisma' | 'planner' | 'log'>, version: string): Promise<void> {
  const retrain = deps.planner.retrain;
  if (!retrain || trained.get(deps.planner) === version) return;
  const accepted = await acceptedExamples(deps);
  retrain.call(deps.planner, accepted);
  trained.set(deps.planner, version);
  if (accepted.length) deps.log.info('intent classifier retrained with accepted examples', { accepted: accepted.length });
}
