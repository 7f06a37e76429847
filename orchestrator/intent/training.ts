// What the local intent classifier learns from: the templates (examples and asks), the small-talk class `none`
// (orchestrator/intent/data/small-talk.yaml) and the labelled examples an admin accepted in the console.
// Invariant: accepted examples only add to a class that exists (a template id or `none`); others are ignored.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { OperatorError } from '../../agents/errors';
import { parseYamlFile } from '../../agents/yaml-file';
import { shipped } from '../shipped';
import type { WorkflowTemplate } from '../templates';
import { NO_INTENT, type TrainingClass } from './classifier';

export const SMALL_TALK_FILE = shipped('orchestrator/intent/data/small-talk.yaml');

const smallTalkSchema = z.object({ examples: z.array(z.string().min(1).max(500)).min(5), asks: z.array(z.string().min(2).max(100)).default([]) }).strict();
export type SmallTalk = z.infer<typeof smallTalkSchema>;

export class SmallTalkDefinitionError extends OperatorError {}

export function loadSmallTalk(file = SMALL_TALK_FILE): SmallTalk {
  return parseYamlFile(file, readFileSync(file, 'utf8'), smallTalkSchema, (m) => new SmallTalkDefinitionError(m));
}

/** A labelled example accepted in the console: the message and the class it belongs to. */
export interface AcceptedExample {
  text: string;
  label: string;
}

export function trainingClasses(templates: WorkflowTemplate[], smallTalk: SmallTalk | undefined, accepted: AcceptedExample[] = []): TrainingClass[] {
  const extra = new Map<string, string[]>();
  for (const a of accepted) extra.set(a.label, [...(extra.get(a.label) ?? []), a.text]);
  const classes: TrainingClass[] = templates.map((t) => ({ id: t.id, examples: [...t.examples, ...(extra.get(t.id) ?? [])], asks: t.asks }));
  if (smallTalk) classes.push({ id: NO_INTENT, examples: [...smallTalk.examples, ...(extra.get(NO_INTENT) ?? [])], asks: smallTalk.asks });
  return classes;
}
