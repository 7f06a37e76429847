// The layering rules of the codebase, checked on the real source so that a change that breaks one fails the suite:
// - the engine (orchestrator/) and the agents (agents/) never import the edges (bot/, web-admin/) or the composition
//   root (app/); the edges never import app/; nothing but app/ imports app/config.ts;
// - no import cycle anywhere in the non-test source, type-only imports included;
// - the edges reach the engine only through its public modules, so every chat action goes through act();
// - only orchestrator/workflow/transitions.ts writes the status of a workflow, a step or an approval (besides the
//   one place that first inserts a workflow), and each of its status writes is conditional on the current status.
// The import graph comes from dependency-cruiser (resolving imports like TypeScript, type-only ones included); the
// status writes are found on the TypeScript syntax tree. Each check is also run on a small bad example, to show
// that it can fail.
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cruise, type IForbiddenRuleType, type IViolation } from 'dependency-cruiser';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
/** The non-test source: everything the product runs. */
const SOURCE_DIRS = ['app', 'bot', 'orchestrator', 'agents', 'web-admin', 'prisma'];

const RULES: IForbiddenRuleType[] = [
  {
    name: 'engine-below-edges',
    comment: 'orchestrator/ and agents/ must not reach app/, bot/ or web-admin/ (type-only imports included)',
    severity: 'error',
    from: { path: '^(orchestrator|agents)/' },
    to: { path: '^(app|bot|web-admin)/' },
  },
  {
    name: 'edges-below-app',
    comment: 'bot/ and web-admin/ are mounted by app/, never the other way round',
    severity: 'error',
    from: { path: '^(bot|web-admin)/' },
    to: { path: '^app/' },
  },
  {
    name: 'config-only-in-app',
    comment: 'the parsed Config stays in app/: each module below declares its own small options type',
    severity: 'error',
    from: { pathNot: '^app/' },
    to: { path: '^app/config\\.ts$' },
  },
  {
    name: 'edges-use-the-public-engine',
    comment: 'the edges never reach the engine\'s commands or its state changes directly: a chat action goes through the Orchestrator (index.ts, api.ts: receive, click, act), so through act()',
    severity: 'error',
    from: { path: '^(bot|web-admin)/' },
    to: { path: '^orchestrator/((act|gates|steps|plan-edits|satisfaction|intake|start|clarify|clicks|handler|resume|posts)\\.ts$|workflow/)' },
  },
  {
    name: 'no-cycles',
    comment: 'no import cycle, type-only imports included',
    severity: 'error',
    from: {},
    to: { circular: true },
  },
];

async function violations(baseDir: string, dirs: string[]): Promise<string[]> {
  const result = await cruise(dirs, {
    baseDir,
    validate: true,
    ruleSet: { forbidden: RULES },
    tsPreCompilationDeps: true, // keep type-only imports in the graph
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|generated)/|\\.test\\.tsx?$|^prisma/engine/' },
    moduleSystems: ['es6', 'cjs'],
  }, { extensions: ['.ts', '.tsx', '.js', '.mjs', '.json'] }, { tsConfig: { compilerOptions: { jsx: 'react-jsx', jsxImportSource: 'hono/jsx' } } });
  if (typeof result.output === 'string') throw new Error('dependency-cruiser answered text instead of a result');
  return (result.output.summary.violations as IViolation[]).map((v) =>
    v.cycle?.length ? `${v.rule.name}: ${[v.from, ...v.cycle.map((c) => c.name)].join(' -> ')}` : `${v.rule.name}: ${v.from} -> ${v.to}`,
  );
}

const fixtures: string[] = [];
afterAll(() => { for (const d of fixtures) rmSync(d, { recursive: true, force: true }); });

/** A throwaway project laid out like this one, with the given files. */
function fixture(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'rolecall-arch-'));
  fixtures.push(dir);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
  return dir;
}

describe('import layering', () => {
  it('holds for the source: no upward import, no Config below app/, edges through the public engine, no cycle', async () => {
    expect(await violations(ROOT, SOURCE_DIRS)).toEqual([]);
  }, 120_000);

  it('catches each kind of violation, type-only imports included', async () => {
    const dir = fixture({
      'app/config.ts': 'export interface Config { port: number }\n',
      'app/main.ts': "import type { Config } from './config';\nexport const c: Config | undefined = undefined;\n",
      'bot/slack/app.ts': "import type { Config } from '../../app/config';\nimport { step } from '../../orchestrator/steps';\nexport const x: Config | undefined = undefined; export const y = step;\n",
      'orchestrator/steps.ts': "import type { Edge } from '../bot/slack/edge';\nimport type { V } from './views';\nexport const step = 1; export type S = Edge | V;\n",
      'orchestrator/views.ts': "import type { S } from './steps';\nexport type V = S | string;\n",
      'bot/slack/edge.ts': 'export type Edge = string;\n',
      'agents/llm.ts': "import type { Config } from '../app/config';\nexport type L = Config;\n",
    });
    expect((await violations(dir, ['app', 'bot', 'orchestrator', 'agents'])).sort()).toEqual([
      'config-only-in-app: agents/llm.ts -> app/config.ts',
      'config-only-in-app: bot/slack/app.ts -> app/config.ts',
      'edges-below-app: bot/slack/app.ts -> app/config.ts',
      'edges-use-the-public-engine: bot/slack/app.ts -> orchestrator/steps.ts',
      'engine-below-edges: agents/llm.ts -> app/config.ts',
      'engine-below-edges: orchestrator/steps.ts -> bot/slack/edge.ts',
      expect.stringMatching(/^no-cycles: orchestrator\/(steps|views)\.ts -> orchestrator\/(views|steps)\.ts -> orchestrator\/(steps|views)\.ts$/),
    ]);
  }, 120_000);
});

// ---- status writes ----

const STATUS_MODELS = { workflow: 'Workflow', step: 'Step', approval: 'Approval' } as const;
type Model = keyof typeof STATUS_MODELS;
const WRITE_METHODS = new Set(['create', 'createMany', 'createManyAndReturn', 'update', 'updateMany', 'updateManyAndReturn', 'upsert']);
/** Relation fields whose nested writes create or change rows of another status model. */
const NESTED: Record<string, Model> = { steps: 'step', approvals: 'approval', step: 'step', workflow: 'workflow' };
const TRANSITIONS = 'orchestrator/workflow/transitions.ts';
/** The rows are first inserted here (insertWorkflow, for intake and for the answer to a clarifying question), with
 * their first status, planned or running; every later change is a transition. Steps and approvals are inserted without
 * one (the column default, pending). */
const FIRST_INSERTS = [{ file: 'orchestrator/start.ts', model: 'workflow', method: 'create' }];

interface StatusWrite {
  file: string;
  line: number;
  model: Model;
  method: string;
  /** Whether the write names the status it moves from (a conditional write whose count says who won). */
  conditional: boolean;
  how: 'prisma' | 'sql' | 'unverifiable';
}

/** Prisma calls `<anything>.<model>.<method>(args)` and SQL text that write a status column of the three models. */
function statusWrites(file: string, text: string): StatusWrite[] {
  const src = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const found: StatusWrite[] = [];
  const lineOf = (n: ts.Node) => src.getLineAndCharacterOfPosition(n.getStart(src)).line + 1;
  const prop = (o: ts.ObjectLiteralExpression, name: string) =>
    o.properties.find((p): p is ts.PropertyAssignment => ts.isPropertyAssignment(p) && propName(p.name) === name)?.initializer;
  const hasStatus = (o: ts.ObjectLiteralExpression) =>
    o.properties.some((p) => (ts.isPropertyAssignment(p) || ts.isShorthandPropertyAssignment(p)) && propName(p.name) === 'status');

  /** Status keys in a `data` value, attributed to the model they write (nested relation writes included). */
  function inspectData(node: ts.Expression, model: Model, method: string, call: ts.Node, conditional: boolean): void {
    const e = unwrap(node);
    if (ts.isArrayLiteralExpression(e)) return e.elements.forEach((el) => inspectData(ts.isSpreadElement(el) ? el.expression : el, model, method, call, conditional));
    if (ts.isConditionalExpression(e)) return [e.whenTrue, e.whenFalse].forEach((b) => inspectData(b, model, method, call, conditional));
    // rows built by `list.map((x) => ({ ... }))`
    const mapped = ts.isCallExpression(e) && ts.isPropertyAccessExpression(e.expression) && e.expression.name.text === 'map' ? e.arguments[0] : undefined;
    if (mapped && (ts.isArrowFunction(mapped) || ts.isFunctionExpression(mapped)) && !ts.isBlock(mapped.body)) return inspectData(mapped.body, model, method, call, conditional);
    if (!ts.isObjectLiteralExpression(e)) {
      found.push({ file, line: lineOf(call), model, method, conditional, how: 'unverifiable' });
      return;
    }
    for (const p of e.properties) {
      if (ts.isSpreadAssignment(p)) {
        inspectData(p.expression, model, method, call, conditional);
        continue;
      }
      if (!ts.isPropertyAssignment(p) && !ts.isShorthandPropertyAssignment(p)) continue;
      const name = propName(p.name);
      if (name === 'status') found.push({ file, line: lineOf(p), model, method, conditional, how: 'prisma' });
      const nestedModel = name ? NESTED[name] : undefined;
      if (nestedModel && ts.isPropertyAssignment(p)) {
        const rel = unwrap(p.initializer);
        if (!ts.isObjectLiteralExpression(rel)) continue;
        for (const op of rel.properties) {
          if (!ts.isPropertyAssignment(op)) continue;
          const opName = propName(op.name) ?? '';
          // nested create / createMany.data / update.data / updateMany.data / upsert.create|update
          const inner = unwrap(op.initializer);
          const payloads = ts.isObjectLiteralExpression(inner) && ['createMany', 'update', 'updateMany', 'upsert'].includes(opName)
            ? (['data', 'create', 'update'].map((k) => prop(inner, k)).filter(Boolean) as ts.Expression[])
            : [op.initializer];
          for (const payload of payloads) inspectData(payload, nestedModel, `nested ${opName}`, call, false);
        }
      }
    }
  }

  function visit(node: ts.Node): void {
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && ts.isPropertyAccessExpression(node.expression.expression)) {
      const method = node.expression.name.text;
      const model = node.expression.expression.name.text;
      if (WRITE_METHODS.has(method) && model in STATUS_MODELS) {
        const arg = node.arguments[0] && unwrap(node.arguments[0]);
        if (!arg || !ts.isObjectLiteralExpression(arg)) {
          found.push({ file, line: lineOf(node), model: model as Model, method, conditional: false, how: 'unverifiable' });
        } else {
          const where = prop(arg, 'where');
          const whereObj = where && unwrap(where);
          const conditional = method !== 'update' && method !== 'upsert' && !!whereObj && ts.isObjectLiteralExpression(whereObj) && hasStatus(whereObj);
          for (const key of method === 'upsert' ? ['create', 'update'] : ['data']) {
            const data = prop(arg, key);
            if (data) inspectData(data, model as Model, method, node, conditional);
          }
        }
      }
    }
    if (ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateExpression(node) || ts.isStringLiteral(node)) {
      const sql = ts.isTemplateExpression(node) ? [node.head.text, ...node.templateSpans.map((s) => s.literal.text)].join(' ? ') : node.text;
      const m = /\b(UPDATE|INSERT\s+INTO)\s+"?(Workflow|Step|Approval)"?\b([\s\S]*)/i.exec(sql);
      if (m && /\bstatus\b/i.test(m[3]!)) {
        const model = (Object.keys(STATUS_MODELS) as Model[]).find((k) => STATUS_MODELS[k] === m[2])!;
        const where = /\bWHERE\b([\s\S]*)$/i.exec(m[3]!)?.[1] ?? '';
        found.push({ file, line: lineOf(node), model, method: m[1]!.toUpperCase().startsWith('UPDATE') ? 'UPDATE' : 'INSERT', conditional: /\bstatus\b/i.test(where), how: 'sql' });
      }
    }
    ts.forEachChild(node, visit);
  }
  visit(src);
  return found;
}

function unwrap(e: ts.Expression): ts.Expression {
  while (ts.isAsExpression(e) || ts.isParenthesizedExpression(e) || ts.isSatisfiesExpression(e) || ts.isNonNullExpression(e)) e = e.expression;
  return e;
}

function propName(n: ts.PropertyName): string | undefined {
  return ts.isIdentifier(n) || ts.isStringLiteral(n) ? n.text : undefined;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && /\.tsx?$/.test(d.name) && !/\.test\.tsx?$/.test(d.name))
    .map((d) => path.relative(ROOT, path.join(d.parentPath, d.name)))
    .filter((f) => !f.startsWith('prisma/engine/'));
}

const misplaced = (w: StatusWrite) =>
  w.file !== TRANSITIONS && !FIRST_INSERTS.some((a) => a.file === w.file && a.model === w.model && a.method === w.method && w.how === 'prisma');
const show = (w: StatusWrite) => `${w.file}:${w.line} ${w.model}.${w.method} (${w.how})`;

describe('workflow, step and approval status', () => {
  const writes = SOURCE_DIRS.flatMap(sourceFiles).flatMap((f) => statusWrites(f, readFileSync(path.join(ROOT, f), 'utf8')));

  it('is written only in orchestrator/workflow/transitions.ts, and where a workflow is first inserted', () => {
    expect(writes.filter(misplaced).map(show)).toEqual([]);
    // the scan sees the transitions (a scan that finds nothing would pass the line above for the wrong reason)
    expect(writes.filter((w) => w.file === TRANSITIONS).length).toBeGreaterThan(10);
    expect(writes.filter((w) => !misplaced(w) && w.file !== TRANSITIONS).map((w) => `${w.file} ${w.model}.${w.method}`)).toEqual(['orchestrator/start.ts workflow.create']);
  });

  it('changes in transitions.ts only conditionally: each write names the status it moves from', () => {
    const changes = writes.filter((w) => w.file === TRANSITIONS && !w.method.startsWith('create') && w.method !== 'INSERT');
    expect(changes.filter((w) => !w.conditional || w.how === 'unverifiable').map(show)).toEqual([]);
  });

  it('the scan catches writes outside transitions.ts, nested and raw ones included', () => {
    const bad = statusWrites('web-admin/routes/x.tsx', `
      await deps.prisma.workflow.update({ where: { id }, data: { status: 'cancelled' } });
      await tx.step.updateMany({ where: { id, status: 'failed' }, data: { status: 'pending' } });
      await deps.prisma.workflow.create({ data: { status: 'running', steps: { create: [{ key: 'a', status: 'completed' }] } } });
      await deps.prisma.approval.update({ where: { id }, data: patch });
      await deps.prisma.approval.createMany({ data: [{ stepId, status: 'approved' }] });
      await deps.prisma.$executeRaw\`UPDATE "Step" SET status = 'completed' WHERE id = \${id}\`;
      await deps.prisma.step.update({ where: { id }, data: { output: 'x' } }); // no status: fine
      await tx.step.createMany({ data: rows.map((r) => ({ ...r, ...(r.done ? { status: 'completed' } : {}) })) });
    `);
    expect(bad.map((w) => `${w.line} ${w.model}.${w.method} ${w.how} ${w.conditional ? 'conditional' : 'unconditional'}`)).toEqual([
      '2 workflow.update prisma unconditional',
      '3 step.updateMany prisma conditional',
      '4 workflow.create prisma unconditional',
      '4 step.nested create prisma unconditional',
      '5 approval.update unverifiable unconditional',
      '6 approval.createMany prisma unconditional',
      '7 step.UPDATE sql unconditional',
      '9 step.createMany unverifiable unconditional',
      '9 step.createMany prisma unconditional',
    ]);
    expect(bad.filter(misplaced)).toHaveLength(9);
  });
});

// ---- chat actions ----

/** The commands behind the chat actions: only act() (orchestrator/act.ts) may call them. */
const ACTION_COMMANDS: Record<string, string[]> = {
  'orchestrator/gates.ts': ['decide', 'retryStep', 'skipStep', 'cancelWorkflow'],
  'orchestrator/plan-edits.ts': ['editPlan'],
  'orchestrator/satisfaction.ts': ['recordSatisfaction'],
};

function commandImports(file: string, text: string): string[] {
  const src = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const out: string[] = [];
  for (const st of src.statements) {
    if (!(ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) || !st.moduleSpecifier || !ts.isStringLiteral(st.moduleSpecifier)) continue;
    const spec = st.moduleSpecifier.text;
    if (!spec.startsWith('.')) continue;
    const target = path.relative(ROOT, path.resolve(ROOT, path.dirname(file), spec)).replace(/\.(js|ts)$/, '') + '.ts';
    const commands = ACTION_COMMANDS[target];
    if (!commands) continue;
    const bindings = ts.isImportDeclaration(st) ? st.importClause?.namedBindings : st.exportClause;
    if (!bindings || ts.isNamespaceImport(bindings) || ts.isNamespaceExport(bindings)) { out.push(`${file}: ${target} (whole module)`); continue; }
    for (const el of bindings.elements) {
      const name = (el.propertyName ?? el.name).text;
      if (commands.includes(name)) out.push(`${file}: ${name}`);
    }
  }
  return out;
}

describe('chat actions', () => {
  it('reach their commands only through act()', () => {
    const imports = SOURCE_DIRS.flatMap(sourceFiles).flatMap((f) => commandImports(f, readFileSync(path.join(ROOT, f), 'utf8')));
    expect(imports.filter((i) => !i.startsWith('orchestrator/act.ts:'))).toEqual([]);
    expect(imports.length).toBeGreaterThanOrEqual(6); // act.ts imports all six
    expect(commandImports('orchestrator/handler.ts', "import { decide as d } from './gates';\nimport * as plan from './plan-edits';")).toEqual([
      'orchestrator/handler.ts: decide', 'orchestrator/handler.ts: orchestrator/plan-edits.ts (whole module)',
    ]);
  });
});
