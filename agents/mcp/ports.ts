// What the role MCP servers need from storage: artifacts to read, and places to record refused and model calls.
import type { LlmCallRecord } from '../llm/measure';
export interface Artifact {
  stepId: string;
  workflowId: string;
  request: string;
  revision: number;
  output: string;
  finishedAt: Date | null;
}

/** Narrows what a store answers, in the query itself: `workflowId` keeps only that workflow's artifacts. */
export interface ArtifactScope {
  workflowId?: string;
}

export interface ArtifactStore {
  list(roleId: string, limit: number, scope?: ArtifactScope): Promise<Artifact[]>;
  /** Undefined also when the step exists but is outside `scope` (the same answer as for a step that does not exist). */
  get(roleId: string, stepId: string, scope?: ArtifactScope): Promise<Artifact | undefined>;
}

/** Model calls made outside a workflow step (MCP run_task, intent classification). */
export interface UsageLog {
  record(call: LlmCallRecord & { roleId?: string; purpose: 'mcp' | 'intent' }): Promise<void>;
}

export interface ViolationLog {
  record(v: { roleId: string; kind: string; detail: string; action: string; workflowId?: string; stepId?: string }): Promise<void>;
}
