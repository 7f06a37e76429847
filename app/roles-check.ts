// `npm run roles:check [-- --dir DIR]`: loads every role file of the roles folder (ROLES_DIR, default roles/: the shipped
// roles and any custom one) and runs each forbidden topic's examples through the check a step uses. Prints one line per
// example; exit code 1 when a violating example is not caught or a clean one is, 2 when a role file is invalid.
import { parseArgs } from 'node:util';
import { checkRoleExamples, topicsWithoutExamples } from '../agents/checks/examples';
import { errorMessage } from '../agents/errors';
import { loadRoles } from '../agents/roles';

let roles;
const { values } = parseArgs({ options: { dir: { type: 'string' }, quiet: { type: 'boolean' } } });
const dir = values.dir ?? process.env.ROLES_DIR ?? 'roles';
try {
  roles = loadRoles(dir);
} catch (e) {
  process.stderr.write(`roles:check: ${errorMessage(e)}\n`);
  process.exit(2);
}
const results = checkRoleExamples(roles.values());
const out: string[] = [];
for (const r of results) {
  if (values.quiet && r.ok !== false) continue;
  const mark = r.ok === undefined ? 'model ' : r.ok ? 'ok    ' : 'FAILED';
  const what = r.kind === 'violating' ? (r.ok === false ? 'is not caught' : 'is caught') : r.ok === false ? 'is flagged' : 'passes';
  const why = r.ok === undefined ? ' (semantic topic: checked by the model judge only, not offline)' : r.found ? `: ${r.found}` : '';
  out.push(`${mark} ${r.roleId}.${r.topicId} ${r.kind} example ${JSON.stringify(r.text.length > 70 ? `${r.text.slice(0, 70)}…` : r.text)} ${what}${why}`);
}
for (const t of topicsWithoutExamples(roles.values())) out.push(`note   ${t.roleId}.${t.topicId} has no ${t.missing.join(' or ')} examples`);
const failed = results.filter((r) => r.ok === false).length;
out.push(`${dir}: ${roles.size} roles, ${results.length} examples, ${failed} failing`);
process.stdout.write(`${out.join('\n')}\n`);
process.exit(failed ? 1 : 0);
