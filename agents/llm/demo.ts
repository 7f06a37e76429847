// Offline demo model: deterministic, no network, and it says so (in its text, and in the post's model line). Its
// output reads like a short, plausible example of each role's work (demoText), never the request repeated per bullet.
import { createHash } from 'node:crypto';
import type { ChatRequest, ChatResult, LlmProvider } from './provider';

export const DEMO_NOTICE = 'Offline demo model: example text, not an AI answer. Configure OPENAI_API_KEY or OLLAMA_HOST for real output.';
/** The label of anything the demo model produced, where a person or a client reads it (chat posts, MCP results). */
export const DEMO_LABEL = 'offline demo model';

export function demoProvider(): LlmProvider {
  return {
    name: 'demo',
    capabilities: { tools: false, images: false, structuredOutput: true, reasoning: false },
    async complete(req: ChatRequest): Promise<ChatResult> {
      const role = /You are the ([A-Za-z ]+?)[.,]/.exec(req.system)?.[1] ?? 'assistant';
      const request = /^Request: (.*)$/m.exec(req.user)?.[1] ?? req.user.split('\n')[0] ?? '';
      const subject = demoSubject(request);
      // What it received besides the request: the files' lines (type, size, pages, dimensions) and image parts.
      const files = [...req.user.matchAll(/^File \d+: (.+)$/gm)].map((m) => m[1]!);
      const received = files.length || req.images?.length ? ` (received ${[files.length ? `files: ${files.join('; ')}` : '', req.images?.length ? `${req.images.length} image part(s)` : ''].filter(Boolean).join('; ')})` : '';
      const digest = createHash('sha256').update(req.system + req.user).digest('hex').slice(0, 8);
      const items = (schema: Record<string, any>) => Math.max(schema.minItems ?? 1, Math.min(schema.maxItems ?? 3, 2 + (Number.parseInt(digest.slice(6), 16) % 2)));
      const text = req.responseSchema
        ? JSON.stringify(instanceOf(req.responseSchema.schema, demoText(role, subject, digest, received), { items }))
        : `_${DEMO_NOTICE}_\n*${role}* (example answer) on "${subject}"${received}: this is where the ${role} would answer.`;
      return { text, model: 'demo', promptTokens: countWords(req.system + req.user), completionTokens: countWords(text) };
    },
  };
}

/** Supplies the strings of a schema instance: the string's schema, its property name ('' at the top or in a bare array)
 *  and the 0-based index of each array item it is nested in, outermost first. */
export type TextFor = (schema: Record<string, any>, name: string, at: number[]) => string;

export interface InstanceOptions {
  /** How many items an array gets (default: minItems, and at least 1, up to 2 unless maxItems allows fewer). */
  items?: (schema: Record<string, any>) => number;
}

const defaultItems = (schema: Record<string, any>) => Math.max(schema.minItems ?? 1, Math.min(2, schema.maxItems ?? 2));

/** A deterministic value that satisfies the JSON schema (the subset roles use: object, array, string, enum, number,
 *  boolean), with strings from `textFor`. Objects get their required properties (all of them if none are listed). */
export function instanceOf(schema: Record<string, any>, textFor: TextFor, opts: InstanceOptions = {}): unknown {
  const items = opts.items ?? defaultItems;
  const fill = (schema: Record<string, any>, name: string, at: number[]): unknown => {
    if (Array.isArray(schema.enum)) return schema.enum[0];
    if (schema.const !== undefined) return schema.const;
    const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
    switch (type) {
      case 'object': {
        const props = (schema.properties ?? {}) as Record<string, Record<string, any>>;
        const wanted = Array.isArray(schema.required) ? Object.entries(props).filter(([k]) => schema.required.includes(k)) : Object.entries(props);
        return Object.fromEntries(wanted.map(([k, v]) => [k, fill(v, k, at)]));
      }
      case 'array':
        return Array.from({ length: items(schema) }, (_, i) => fill(schema.items ?? { type: 'string' }, name, [...at, i]));
      case 'integer':
      case 'number':
        return Math.max(schema.minimum ?? 1, 1);
      case 'boolean':
        return true;
      default:
        return textFor(schema, name, at);
    }
  };
  return fill(schema, '', []);
}

/** The demo model's strings: short, plausible example content per field (the role files' output names), varied by
 *  the prompt's digest and the item's position, the request named only where a person would name it (a problem
 *  statement, an overview, a summary's request). What it received (files) is said once, in the first string. */
function demoText(role: string, subject: string, digest: string, received: string): TextFor {
  const seed = Number.parseInt(digest.slice(0, 6), 16);
  let first = true;
  return (schema, name, at) => {
    const bank = DEMO_BANK[name];
    const i = at.length ? at[at.length - 1]! : 0;
    const item = at.length > 1 ? at[0]! : i; // the object an inner list belongs to (a test case's steps)
    let s = bank ? bank(subject, (list) => list[(seed + item * 7 + (at.length > 1 ? i : 0)) % list.length]!, i) : `${titleOf(name || 'text')} ${i + 1} (${role}, example)`;
    if (first) s += received;
    first = false;
    if (schema.minLength && s.length < schema.minLength) s = s.padEnd(schema.minLength, '.');
    if (schema.maxLength && s.length > schema.maxLength) s = s.slice(0, schema.maxLength);
    return s;
  };
}

const titleOf = (name: string) => name.replace(/_/g, ' ').replace(/^\w/, (c) => c.toUpperCase());

/** The request as a phrase: mentions dropped, first word lower-cased, at most ~80 characters at a word boundary. */
export function demoSubject(request: string): string {
  const s = request.replace(/<@[A-Za-z0-9_-]+>/g, '').replace(/\s+/g, ' ').trim().replace(/[.!?]+$/, '');
  const cut = s.length > 80 ? `${s.slice(0, 80).replace(/\s+\S*$/, '')}…` : s;
  return cut ? cut[0]!.toLowerCase() + cut.slice(1) : 'the request';
}

type Pick = (list: readonly string[]) => string;
const DEMO_BANK: Record<string, (subject: string, pick: Pick, i: number) => string> = {
  // Business Analyst
  problem_statement: (s) => `Asked: "${s}". Today people work around it by hand; success means the first users get through without help and related support requests drop.`,
  story: (_, pick) => pick([
    'As a regular user, I want the main flow in a few clear steps, so that I finish without asking for help.',
    'As a team admin, I want to switch this on per team, so that we can roll it out gradually.',
    'As a support agent, I want a clear error message and an audit entry for each failure, so that I can answer questions quickly.',
    'As a returning user, I want my last choices remembered, so that I do not repeat them every time.',
  ]),
  acceptance_criteria: (_, pick) => pick([
    'Given a signed-in user, when they complete the flow, then they see a confirmation and the result is saved.',
    'Given invalid input, when the user submits, then the form says what to fix and keeps what they typed.',
    'Given the feature is off for a team, when a member opens the page, then nothing changes for them.',
    'Given a failure on our side, when the user retries, then no duplicate is created.',
  ]),
  open_questions: (_, pick) => pick(['Which user group gets this first?', 'Is there a customer commitment behind the date?', 'Which existing systems must it work with?', 'Who signs off the wording users see?']),
  out_of_scope: (_, pick) => pick(['Mobile apps: web only in this iteration.', 'Migrating historical data.', 'Changes to pricing or billing.', 'Reporting dashboards.']),
  // Technical Architect
  overview: (s) => `A small module in the existing backend handles "${s}": the web app calls it over the current REST API, state lives in PostgreSQL, and slow work runs in the background worker.`,
  name: (_, __, i) => ['API layer', 'Domain service', 'Background worker', 'Admin settings'][i % 4]!,
  responsibility: (_, __, i) => ['Validates input and checks the caller\'s team and role.', 'Holds the business rules and writes audit events.', 'Runs slow calls off the request path, with timeouts and retries.', 'Lets a team admin switch the feature on and off.'][i % 4]!,
  data_model: (_, pick) => pick(['New table feature_settings (team_id, enabled, updated_by, updated_at).', 'Audit events go to the existing audit_log table.', 'One nullable column on the existing accounts table; no backfill needed.']),
  interfaces: (_, pick) => pick(['REST: POST /api/items creates, GET /api/items/{id} reads the status.', 'Event item.completed on the internal queue for other services.', 'Admin: PATCH /api/teams/{id}/settings toggles the feature.']),
  decision: (_, __, i) => ['Extend the existing backend rather than add a service.', 'Keep state in PostgreSQL.', 'Process slow steps asynchronously.'][i % 3]!,
  alternatives: (_, pick) => pick(['A separate microservice', 'A hosted third-party product', 'Redis as the only store', 'Synchronous processing']),
  rationale: (_, __, i) => ['One deployment and fewer moving parts; the expected load is small.', 'Transactions and backups the team already runs.', 'Requests stay fast when a dependency is slow.'][i % 3]!,
  risk: (_, __, i) => ['A slow dependency blocks requests.', 'Team boundaries are checked in one place only.', 'Unclear wording confuses first users.'][i % 3]!,
  mitigation: (_, __, i) => ['Call it from the worker with a timeout and retries.', 'One middleware checks scope, with a test that attacks it.', 'Review the copy with two users before release.'][i % 3]!,
  // Developer
  file: (_, __, i) => ['src/api/items.ts', 'src/domain/items-service.ts', 'src/db/migrations/add_feature_settings.sql', 'src/web/ItemForm.tsx'][i % 4]!,
  change: (_, __, i) => ['Add the endpoints with input validation and the team check.', 'Implement the rules behind a small interface, with unit tests.', 'Create the settings table and its index (backward compatible).', 'Add the form, its error states and the confirmation.'][i % 4]!,
  configuration: (_, pick) => pick(['FEATURE_ITEMS_ENABLED: off by default, switched on per environment.', 'Outbound call timeout: 10 s, 3 retries.', 'No new secrets.']),
  migrations: (_, pick) => pick(['Add table feature_settings with an index on team_id.', 'Add nullable column accounts.items_enabled.']),
  deviations: (_, pick) => pick(['None from the design.', 'The admin toggle lives in the existing settings page instead of a new one.']),
  // QA Tester
  title: (_, __, i) => ['Happy path', 'Invalid input', 'Permission boundary', 'Retry after failure'][i % 4]!,
  criterion: (_, __, i) => ['The flow completes and is saved.', 'Errors are explained and input is kept.', 'Other teams cannot see or change it.', 'A retry creates no duplicate.'][i % 4]!,
  steps: (_, pick) => pick(['Sign in as a regular user.', 'Open the new page.', 'Fill in the form and submit.', 'Check the confirmation.', 'Sign in as a member of another team.', 'Submit the same request twice.']),
  expected: (_, __, i) => ['A confirmation is shown and the item appears in the list.', 'The form names the wrong field and keeps the other values.', 'Access is refused and nothing is changed.', 'Exactly one item exists.'][i % 4]!,
  edge_cases: (_, pick) => pick(['Very long input (10,000 characters).', 'Two people editing at once.', 'Session expiring mid-flow.', 'Non-Latin characters and emoji in names.']),
  automation: (_, pick) => pick(['API tests for each endpoint in CI.', 'One browser test of the happy path.', 'A permission test per role.']),
  gaps: (_, pick) => pick(['Load testing is not covered yet.', 'Accessibility review still to do.']),
  // Project Manager
  request: (s) => s.charAt(0).toUpperCase() + s.slice(1),
  delivered: (_, __, i) => ['Requirements: user stories with acceptance criteria.', 'Design: components, decisions and risks.', 'Implementation plan and test plan.'][i % 3]!,
  decisions: (_, pick) => pick(['Web first; mobile later.', 'Roll out per team behind a setting.', 'Reuse the existing backend.']),
  risks: (_, pick) => pick(['Open questions on the first user group may shift scope.', 'A slow dependency could delay the release.']),
  step: (_, __, i) => ['Answer the open questions with the requester.', 'Plan the first iteration.', 'Book a review with two pilot users.'][i % 3]!,
  owner: (_, __, i) => ['Product owner', 'Project Manager', 'QA Tester'][i % 3]!,
};

const countWords = (s: string) => s.split(/\s+/).filter(Boolean).length;
