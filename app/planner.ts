// Builds the planner: the local intent classifier trained from the templates' examples, the small-talk class and the
// labelled examples accepted in the console; the configured model as second stage (its calls recorded as LlmCall rows
// with purpose 'intent'); language identification. `refresh` retrains the classifier when the accepted examples
// changed (intake calls it before deciding, so every worker process picks up an accepted example).
import type { LlmRouter } from '../agents/llm/router';
import type { RoleRegistry } from '../agents/mcp/registry';
import type { Role } from '../agents/roles';
import type { Config } from './config';
import type { Logger } from '../orchestrator/log';
import { trainClassifier, type IntentClassifier } from '../orchestrator/intent/classifier';
import { detectLanguage } from '../orchestrator/intent/language';
import { classifyWithLlm } from '../orchestrator/intent/llm';
import { loadSmallTalk, trainingClasses, type AcceptedExample, type SmallTalk } from '../orchestrator/intent/training';
import { createPlanner, type Planner } from '../orchestrator/planning';
import type { WorkflowTemplate } from '../orchestrator/templates';
import { recordingProvider } from '../agents/llm/measure';
import type { UsageLog, UsageScope } from '../agents/mcp/ports';
import { RolecallError } from '../agents/errors';

/** The intent model was not asked: a budget of the conversation is spent. */
export class BudgetSpentError extends RolecallError {}

export interface PlannerInputs {
  templates: WorkflowTemplate[];
  roles: () => Role[];
  minConfidence: number;
  smallTalk?: SmallTalk;
  /** The model stage (absent: local classifier only). */
  model?: { classify(text: string, spend?: UsageScope): Promise<import('../orchestrator/intent/classifier').IntentResult> };
  onModelError?: (e: Error) => void;
}

/** A planner whose classifier can be retrained with accepted examples. Shared by the runtime and `intents:eval`. */
export function plannerFrom(inputs: PlannerInputs): Planner & { retrain(accepted: AcceptedExample[]): void } {
  const smallTalk = inputs.smallTalk ?? loadSmallTalk();
  let classifier: IntentClassifier = trainClassifier(trainingClasses(inputs.templates, smallTalk));
  const planner = createPlanner({
    templates: inputs.templates,
    roles: inputs.roles,
    classifyLocal: (text) => classifier.classify(text),
    classifyWithModel: inputs.model ? (text, spend) => inputs.model!.classify(text, spend) : undefined,
    minConfidence: inputs.minConfidence,
    onModelError: inputs.onModelError,
    detectLanguage,
  });
  return {
    ...planner,
    retrain(accepted) {
      classifier = trainClassifier(trainingClasses(inputs.templates, smallTalk, accepted));
    },
  };
}

export function buildPlanner(config: Config, templates: WorkflowTemplate[], roles: RoleRegistry, llm: LlmRouter, log: Logger, usage: UsageLog): Planner & { retrain(accepted: AcceptedExample[]): void } {
  const model = llm.orchestration;
  // The model stage's calls are recorded and counted against the conversation's budgets; with one of them spent the
  // local classification is used (the plan says why).
  const classify = model && (async (text: string, spend?: UsageScope) => {
    const spent = spend && (await usage.spent?.(spend));
    if (spent) throw new BudgetSpentError(`a budget is spent: ${spent}`);
    const recorded = recordingProvider(model.provider, (call) => usage.record({ ...call, purpose: 'intent', ...(spend ? { scope: spend } : {}) }));
    return classifyWithLlm(recorded, model.model, text, templates);
  });
  return plannerFrom({
    templates,
    roles: () => roles.ids().map((id) => roles.get(id)).filter((r): r is Role => !!r),
    minConfidence: config.intentMinConfidence,
    model: classify ? { classify } : undefined,
    onModelError: (e) => log.warn('intent model failed; using the local classification', { error: e.message }),
  });
}
