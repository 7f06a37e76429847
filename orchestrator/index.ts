// The engine's public API for the edges (bot/, web-admin/): the Orchestrator (receive a message, act on a button or a
// console action), the ChatPort they implement and the vocabulary they share. Named exports only; app/, the
// composition root, builds the engine from its modules.
// Invariant: a chat action reaches the engine only through the Orchestrator exported here; the edges never import
// the engine's commands or state changes (act, gates, steps, workflow/transitions, ...: test/unit/architecture.test.ts).
export { createOrchestrator, type Orchestrator, type WorkflowQuery, type WorkflowSummary } from './api';
export type { ActionId, ActOutcome, Actor } from './contract';
export { ACTION_IDS } from './contract';
export type { ChatPort, ChatPorts, InboundMessage, MessageView, Persona, ThreadRef } from './chat';
export type { EngineDeps } from './deps';
export type { Logger } from './log';
export { createLogger } from './log';
