// What the role MCP servers need from storage: artifacts to read and a place to record refused calls.
export interface Artifact {
  stepId: string;
  workflowId: string;
  request: string;
  revision: number;
  output: string;
  finishedAt: Date | null;
}

export interface ArtifactStore {
  list(roleId: string, limit: number): Promise<Artifact[]>;
  get(roleId: string, stepId: string): Promise<Artifact | undefined>;
}

export interface ViolationLog {
  record(v: { roleId: string; kind: string; detail: string; action: string; workflowId?: string; stepId?: string }): Promise<void>;
}
