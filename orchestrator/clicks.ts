// Job: a button press queued by an edge. Runs the one chat-action command (act.ts) and tells the person what came of
// it through the ChatPort (Slack: a note only they see; Teams: a reply that mentions them). The edge acknowledged the
// press as soon as this job was kept durably; the outcome's words are act's.
// Invariant: what a press changes is decided by act's conditional writes, so a job that runs again (a crash, a
// redelivered press) changes nothing twice; at worst the person is told the outcome again.
import { act } from './act';
import type { ActOutcome } from './contract';
import { chatFor, type EngineDeps } from './deps';
import type { ClickJob } from './jobs';
import { rememberPerson } from './people';

export async function handleClick(deps: EngineDeps, job: ClickJob): Promise<void> {
  const outcome = await act(deps, job.action, job.value, job.actor, job.feedback, new Date(job.pressedAt));
  const text = noteFor(outcome);
  if (text) await chatFor(deps, job.actor.platform).notify(job.reply.thread, job.reply.person, text);
  // the presser's (a gate decider's) name for the console, once the press is applied (best effort: people.ts)
  await rememberPerson(deps, { platform: job.actor.platform, teamId: job.actor.teamId, userId: job.actor.userId });
}

/** What the person is told: a refusal, a request for feedback, or a confirmation act asked for; otherwise nothing
 * (the thread itself shows what happened, e.g. the gate message updated for everyone). */
function noteFor(outcome: ActOutcome): string | undefined {
  if (outcome.kind === 'done') return outcome.confirm ? outcome.text : undefined;
  return outcome.text;
}

/** What an edge answers at once for a press it has queued, where the platform shows an answer (a Teams card). */
export const CLICK_RECEIVED_TEXT = 'Received: you will see the result here in a moment.';
