// The registry of roles: what the orchestrator and MCP clients discover, with each role's health.
import type { LlmRouter } from '../llm/router';
import type { Role } from '../roles';
import { errorMessage } from '../errors';

interface RoleInfo {
  role_id: string;
  display_name: string;
  capabilities: string[];
  mcp_endpoint: string;
  healthy: boolean;
  problem?: string;
}

export interface RoleRegistry {
  ids(): string[];
  get(roleId: string): Role | undefined;
  list(): RoleInfo[];
  health(roleId: string): RoleInfo | undefined;
}

export function createRoleRegistry(roles: Map<string, Role>, llm: LlmRouter): RoleRegistry {
  const info = (role: Role): RoleInfo => {
    let problem: string | undefined;
    try {
      llm.forRole(role);
    } catch (e) {
      problem = errorMessage(e);
    }
    return { role_id: role.role_id, display_name: role.persona.display_name, capabilities: role.capabilities, mcp_endpoint: `/mcp/${role.role_id}`, healthy: !problem, ...(problem ? { problem } : {}) };
  };
  return {
    ids: () => [...roles.keys()],
    get: (id) => roles.get(id),
    list: () => [...roles.values()].map(info),
    health: (id) => (roles.has(id) ? info(roles.get(id)!) : undefined),
  };
}
