// Builds the planner: the local intent classifier trained from the templates' examples, and the configured model as
// second stage (its calls recorded as LlmCall rows with purpose 'intent').
import type { LlmRouter } from '../agents/llm/router';
import type { RoleRegistry } from '../agents/mcp/registry';
import type { Role } from '../agents/roles';
import type { Config } from './config';
import type { Logger } from '../orchestrator/log';
import { trainClassifier } from '../orchestrator/intent/classifier';
import { classifyWithLlm } from '../orchestrator/intent/llm';
import { createPlanner, type Planner } from '../orchestrator/planning';
import type { WorkflowTemplate } from '../orchestrator/templates';
import { recordingProvider } from '../agents/llm/measure';
import type { UsageLog } from '../agents/mcp/ports';

export function buildPlanner(config: Config, templates: WorkflowTemplate[], roles: RoleRegistry, llm: LlmRouter, log: Logger, usage: UsageLog): Planner {
  const classifier = trainClassifier(templates);
  const model = llm.orchestration;
  const recorded = model && recordingProvider(model.provider, (call) => usage.record({ ...call, purpose: 'intent' }));
  return createPlanner({
    templates,
    roles: () => roles.ids().map((id) => roles.get(id)).filter((r): r is Role => !!r),
    classifyLocal: (text) => classifier.classify(text),
    classifyWithModel: model && recorded ? (text) => classifyWithLlm(recorded, model.model, text, templates) : undefined,
    minConfidence: config.intentMinConfidence,
    onModelError: (e) => log.warn('intent model failed; using the local classification', { error: e.message }),
  });
}
