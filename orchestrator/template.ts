// The default workflow template (dynamic assembly comes later).
export interface TemplateStep {
  roleId: string;
  gateAfter: boolean;
}

export interface WorkflowTemplate {
  id: string;
  steps: TemplateStep[];
}

export const DEFAULT_TEMPLATE: WorkflowTemplate = {
  id: 'feature_delivery',
  steps: [
    { roleId: 'business_analyst', gateAfter: true },
    { roleId: 'technical_architect', gateAfter: true },
    { roleId: 'developer', gateAfter: false },
    { roleId: 'qa_tester', gateAfter: false },
    { roleId: 'project_manager', gateAfter: false },
  ],
};

export function checkTemplate(template: WorkflowTemplate, roleIds: Set<string>): void {
  const missing = template.steps.map((s) => s.roleId).filter((id) => !roleIds.has(id));
  if (missing.length) throw new Error(`template ${template.id} needs roles that are not defined in roles/: ${missing.join(', ')}`);
}
