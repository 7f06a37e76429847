// The engine's public API: what app/ wires and what the edges (bot/, web-admin/) may use. Named exports only.
// Invariant: edges import the orchestrator through this file (and the leaf contract.ts, chat.ts and log.ts types).
export { createOrchestrator, type Orchestrator } from './api';
export type { ActionId, ActOutcome, Actor, Decision, PlatformName, Vote } from './contract';
export { ACTION_IDS, actorId, isActionId } from './contract';
export type { ChatPort, ChatPorts, InboundMessage, MessageView, Persona, ThreadRef, ViewAction } from './chat';
export type { EngineDeps } from './deps';
export { createJobHandler } from './handler';
export type { JobData, JobQueue } from './jobs';
export type { Logger, LogLevel } from './log';
export { createLogger } from './log';
export { resumeWorkflows } from './resume';
