// What the role MCP servers need from storage: artifacts to read, and places to record refused and model calls.
import type { LlmCallRecord } from '../llm/measure';
import type { ChatImage } from '../llm/provider';
import type { PromptFile } from '../prompt';
import type { Role } from '../roles';
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

/** Budget keys of calls made outside a workflow step: a conversation's workspace and channel (intent), or an MCP
 *  client as a workspace of its own (`mcp:<key prefix>`). */
export type UsageScope = { workspace: string; channel?: string };

/** Model calls made outside a workflow step (MCP run_task, summaries of files given to it, intent classification):
 *  recorded, and counted against the budgets of `scope` (orchestrator/budgets.ts). */
export interface UsageLog {
  record(call: LlmCallRecord & { roleId?: string; purpose: 'mcp' | 'intent' | 'file'; scope?: UsageScope }): Promise<void>;
  /** Undefined when the budgets of `scope` leave room for a call; else what is spent (absent: no budgets). */
  spent?(scope: UsageScope): Promise<string | undefined>;
}

export interface ViolationLog {
  record(v: { roleId: string; kind: string; detail: string; action: string; workflowId?: string; stepId?: string }): Promise<void>;
}

/** Files given to run_task, taken like files shared in a thread (stored, read within the limits, recorded, large ones
 *  summarised): orchestrator/files.ts runTaskFileIntake. `caller`: the API key's prefix; `callId`: unique per call. */
export interface RunTaskFileIntake {
  take(files: { name: string; bytes: Uint8Array }[], call: { role: Role; caller: string; callId: string }): Promise<{ files: PromptFile[]; images: ChatImage[]; skipped: string[]; calls: LlmCallRecord[] }>;
}
