import path from 'node:path';
import { loadRoles } from '../agents/roles';
import { loadTemplates, TEMPLATES_DIR } from '../orchestrator/templates';
import { plannerFrom } from '../app/planner';
import { cuesOf } from '../orchestrator/intent/cues';
const roleFiles = loadRoles(path.resolve('/work/main/roles'));
const templates = loadTemplates(TEMPLATES_DIR, new Set(roleFiles.keys()));
const planner = plannerFrom({ templates, roles: () => [...roleFiles.values()], minConfidence: 0.3 });
for (const t of process.argv.slice(2)) {
  const d = await planner.decide(t);
  console.log(JSON.stringify(t), '=>', d.kind, d.kind === 'plan' ? d.plan.templateId : '', JSON.stringify(d.kind === 'plan' ? d.plan.intent : d.intent).slice(0, 300), JSON.stringify(cuesOf(t)));
}
