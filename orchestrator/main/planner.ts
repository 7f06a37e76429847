// Builds the planner: templates validated against the role registry, the local intent classifier trained from their
// examples, and the configured model as second stage.
import type { LlmRouter } from '../../agents/llm/router';
import type { RoleRegistry } from '../../agents/mcp/registry';
import type { Role } from '../../agents/roles';
import type { Config } from '../config';
import type { Logger } from '../log';
import { trainClassifier } from '../intent/classifier';
import { classifyWithLlm } from '../intent/llm';
import { createPlanner, type Planner } from '../planning';
import { loadTemplates } from '../templates';

export function buildPlanner(config: Config, roles: RoleRegistry, llm: LlmRouter, log: Logger): Planner {
  const templates = loadTemplates(config.templatesDir, new Set(roles.ids()));
  const classifier = trainClassifier(templates);
  const model = llm.orchestration;
  return createPlanner({
    templates,
    roles: () => roles.ids().map((id) => roles.get(id)).filter((r): r is Role => !!r),
    classifyLocal: (text) => classifier.classify(text),
    classifyWithModel: model ? (text) => classifyWithLlm(model.provider, model.model, text, templates) : undefined,
    minConfidence: config.intentMinConfidence,
    onModelError: (e) => log.warn('intent model failed; using the local classification', { error: e.message }),
  });
}
