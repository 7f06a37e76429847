// The shape of a role file (roles/*.yaml) as a zod schema, and the Role type it defines. A leaf module: it imports
// nothing of the project, so everything that works with roles (constraints, prompts, MCP, the engine) can depend on
// it without a cycle. Checks that need other modules (RE2 patterns, output schemas, the external-MCP policy) are run
// by the loader, agents/roles.ts, after this schema has accepted the file.
import { z } from 'zod';

const jsonSchemaObject = z.record(z.string(), z.unknown()).refine((s) => typeof s.type === 'string' || Array.isArray(s.anyOf) || Array.isArray(s.oneOf), {
  message: 'must be a JSON schema with a type',
});

/** Built-in detectors a forbidden topic can use instead of (or beside) its own patterns: agents/checks/. */
export const DETECTORS = ['secrets', 'effort_estimates', 'code'] as const;
export type Detector = (typeof DETECTORS)[number];

/** Longest example, and most examples of each kind, a topic may carry (`npm run roles:check` runs them). */
const examplesSchema = z.array(z.string().min(1).max(4_000)).max(50).default([]);

const forbiddenTopicSchema = z
  .object({
    id: z.string().regex(/^[a-z][a-z0-9_]*$/, 'must be lower_snake_case'),
    description: z.string().min(3),
    /** RE2 syntax; a pattern RE2 cannot compile is refused by the loader (agents/roles.ts). Optional with a detector,
     *  or for a semantic topic (no patterns, no detector), which only the model judge checks. */
    patterns: z.array(z.string().min(1)).default([]),
    detector: z.enum(DETECTORS).optional(),
    /** Only with `detector: code`: a block of code up to this many lines is a sketch and allowed (default 0: none). */
    allowed_code_lines: z.number().int().min(0).max(500).optional(),
    /** Texts the topic must catch (`violating`) and must let through (`clean`), run by `npm run roles:check`. */
    examples: z.object({ violating: examplesSchema, clean: examplesSchema }).strict().optional(),
  })
  .strict()
  .refine((t) => t.allowed_code_lines === undefined || t.detector === 'code', { message: 'is only used with detector: code', path: ['allowed_code_lines'] });

const mcpServerSchema = z.discriminatedUnion('transport', [
  z.object({ name: z.string().regex(/^[a-z][a-z0-9_-]*$/), transport: z.literal('streamable_http'), url: z.string().url() }).strict(),
  z.object({ name: z.string().regex(/^[a-z][a-z0-9_-]*$/), transport: z.literal('stdio'), command: z.string().min(1), args: z.array(z.string()).default([]) }).strict(),
]);

/** A configured model provider: openai, azure, ollama, or the name of an OpenAI-compatible endpoint in LLM_ENDPOINTS
 *  (agents/llm/providers.ts); whether it is configured is checked when the router is built. */
const providerName = z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/, 'must be openai, azure, ollama or an LLM_ENDPOINTS name');

const tierName = z.string().regex(/^[a-z][a-z0-9_]*$/, 'must be lower_snake_case');

const tierSchema = z
  .object({
    name: tierName,
    provider: providerName,
    model: z.string().min(1).max(200),
    temperature: z.number().min(0).max(2).optional(),
    fallback_model: z.string().min(1).max(200).optional(),
  })
  .strict();

const modelsSchema = z
  .object({
    /** Cheapest first: a step escalates from one to the next. */
    tiers: z.array(tierSchema).min(1).max(6),
    /** The tier a step starts on (default: the first, cheapest). */
    start: tierName.optional(),
    /** Per workflow template id: the tier its steps of this role start on (e.g. a harder template starts higher). */
    start_by_template: z.record(z.string().regex(/^[a-z][a-z0-9_-]*$/), tierName).default({}),
    /** The highest tier a step may reach (default: the last). */
    ceiling: tierName.optional(),
    /** Retries with feedback on a tier below the ceiling before escalating (the ceiling gets constraints.max_retries). */
    retries_below_ceiling: z.number().int().min(0).max(5).default(0),
  })
  .strict();

function modelIssues(m: z.infer<typeof modelsSchema>, ctx: z.RefinementCtx): void {
  const names = m.tiers.map((t) => t.name);
  names.forEach((n, i) => { if (names.indexOf(n) !== i) ctx.addIssue({ code: 'custom', path: ['models', 'tiers', i, 'name'], message: `tier "${n}" is named twice` }); });
  const known = (path: (string | number)[], n: string | undefined) => {
    if (n !== undefined && !names.includes(n)) ctx.addIssue({ code: 'custom', path: ['models', ...path], message: `names tier "${n}", which is not in models.tiers (${names.join(', ')})` });
  };
  known(['start'], m.start);
  known(['ceiling'], m.ceiling);
  for (const [template, n] of Object.entries(m.start_by_template)) known(['start_by_template', template], n);
  const ceiling = m.ceiling ? names.indexOf(m.ceiling) : names.length - 1;
  for (const [path, n] of [[['start'], m.start], ...Object.entries(m.start_by_template).map(([t, n]) => [['start_by_template', t], n])] as [(string | number)[], string | undefined][]) {
    if (n !== undefined && names.includes(n) && names.indexOf(n) > ceiling) ctx.addIssue({ code: 'custom', path: ['models', ...path], message: `starts above the ceiling (${m.ceiling})` });
  }
}

/** Formats a role can hand back as files (agents/files/outputs/): `mermaid` gives the .mmd source and, per `render`,
 *  SVG and PNG pictures of it. */
export const OUTPUT_FORMATS = ['csv', 'xlsx', 'mermaid', 'docx', 'patch'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** One file a role attaches to its post, built from its structured output: `from` is a dotted path into it
 *  (e.g. test_plan.test_cases). Nothing there (the model left an optional field out) means no file. */
const outputFileSchema = z
  .object({
    /** The file's name without extension. */
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,59}$/, 'must be lower-case letters, digits, _ and -'),
    from: z.string().regex(/^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*){0,5}$/, 'must be a dotted path of output field names'),
    format: z.enum(OUTPUT_FORMATS),
    render: z.array(z.enum(['svg', 'png'])).max(2).default([]),
    title: z.string().min(1).max(120).optional(),
  })
  .strict()
  .refine((f) => f.render.length === 0 || f.format === 'mermaid', { message: 'is only used with format: mermaid', path: ['render'] });
export type OutputFileSpec = z.infer<typeof outputFileSchema>;

/** A gate policy's duration: a whole number of seconds, minutes, hours or days ("90s", "30m", "4h", "2d"). */
const DURATION = /^([1-9][0-9]{0,5})(s|m|h|d)$/;
const DURATION_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** Milliseconds of a duration, or undefined when it is not one. */
const msOf = (text: string): number | undefined => {
  const m = DURATION.exec(text);
  return m ? Number(m[1]) * DURATION_MS[m[2] as keyof typeof DURATION_MS] : undefined;
};
/** Milliseconds of a duration the role schema accepted. */
export function durationMs(text: string): number {
  const ms = msOf(text);
  if (ms === undefined) throw new Error(`not a duration: ${text}`);
  return ms;
}
const duration = z.string().regex(DURATION, 'must be a duration like 90s, 30m, 4h or 2d').refine((d) => (msOf(d) ?? 0) <= 90 * 86_400_000, 'must be at most 90 days');

/** People to mention at a gate, per platform: Slack user ids (U…/W…) and user-group ids (S…), Teams user ids (the
 *  Bot Framework's 29:… ids or Entra object ids). */
const people = z
  .object({
    slack: z.array(z.string().regex(/^[UWS][A-Z0-9]{2,20}$/, 'must be a Slack user id (U…, W…) or user-group id (S…)')).max(20).default([]),
    teams: z.array(z.string().regex(/^[A-Za-z0-9:_@.-]{3,200}$/, 'must be a Teams user id')).max(20).default([]),
  })
  .strict();

/** Who a gate mentions, when it reminds them, and what happens when nobody decides (orchestrator/gate-timers.ts). */
const gateTimers = {
  /** Mentioned on the gate card and in reminders; absent: the people whose RBAC role may decide (an rbac_role
   *  policy), else the requester. */
  approvers: people.optional(),
  /** A reminder in the thread, mentioning the approvers, once per period while the gate waits. */
  remind_after: duration.optional(),
  /** After this long without a decision the gate expires: the workflow is cancelled, or the gate is escalated. */
  expire_after: duration.optional(),
  /** What an expiry does (default cancel). */
  on_expire: z.enum(['cancel', 'escalate']).optional(),
  /** Mentioned when the gate is escalated; absent: the people mapped to admin or owner. */
  escalate_to: people.optional(),
};

export const roleSchema = z
  .object({
    role_id: z.string().regex(/^[a-z][a-z0-9_]*$/, 'must be lower_snake_case'),
    persona: z
      .object({
        display_name: z.string().min(1).max(80),
        icon_emoji: z.string().regex(/^:[a-z0-9_+-]+:$/, 'must look like :emoji_name:').optional(),
        icon_url: z.string().url().optional(),
        style: z.string().min(1),
      })
      .strict()
      .refine((p) => p.icon_emoji || p.icon_url, { message: 'needs icon_emoji or icon_url', path: ['icon_emoji'] }),
    capabilities: z.array(z.string().regex(/^[a-z][a-z0-9_]*$/, 'must be lower_snake_case')).min(1),
    /** Names of other roles' required outputs this role works from (orders assembled flows). */
    inputs: z.array(z.string().regex(/^[a-z][a-z0-9_]*$/)).default([]),
    instructions: z.string().min(20),
    constraints: z
      .object({
        forbidden_topics: z.array(forbiddenTopicSchema).default([]),
        required_outputs: z.array(z.object({ name: z.string().regex(/^[a-z][a-z0-9_]*$/), description: z.string().min(3), schema: jsonSchemaObject }).strict()).min(1),
        max_output_chars: z.number().int().min(200).max(40_000).default(12_000),
        max_retries: z.number().int().min(0).max(5).default(2),
        model_judge: z.boolean().default(false),
      })
      .strict(),
    tools: z
      .object({
        allow: z.array(z.string().regex(/^[a-z][a-z0-9_-]*(\.[a-zA-Z0-9_-]+)?$/, 'must be tool_name or server.tool_name')).default([]),
        mcp_servers: z.array(mcpServerSchema).default([]),
      })
      .strict()
      .default({ allow: [], mcp_servers: [] }),
    /** Files the role attaches to its post (issue 15): built after the step, uploaded into the thread. */
    outputs: z
      .object({ files: z.array(outputFileSchema).max(8).default([]) })
      .strict()
      .default({ files: [] })
      .refine((o) => new Set(o.files.map((f) => `${f.name}.${f.format}`)).size === o.files.length, { message: 'two output files have the same name and format', path: ['files'] }),
    approval: z
      .discriminatedUnion('policy', [
        z.object({ policy: z.literal('none') }).strict(),
        z.object({ policy: z.literal('any'), ...gateTimers }).strict(),
        z.object({ policy: z.literal('rbac_role'), rbac_role: z.enum(['owner', 'admin', 'approver', 'viewer']), ...gateTimers }).strict(),
        z.object({ policy: z.literal('quorum'), quorum: z.number().int().min(2).max(20), ...gateTimers }).strict(),
      ])
      .superRefine((a, ctx) => {
        if (a.policy === 'none') return;
        const remind = a.remind_after ? msOf(a.remind_after) : undefined;
        const expire = a.expire_after ? msOf(a.expire_after) : undefined;
        if (remind && expire && remind >= expire) ctx.addIssue({ code: 'custom', path: ['remind_after'], message: 'must be shorter than expire_after' });
        if (a.on_expire === 'escalate' && !a.expire_after) ctx.addIssue({ code: 'custom', path: ['on_expire'], message: 'needs expire_after' });
      })
      .default({ policy: 'any' }),
    llm_config: z
      .object({
        provider: providerName,
        model: z.string().min(1),
        temperature: z.number().min(0).max(2).default(0.3),
        fallback_model: z.string().min(1).optional(),
      })
      .strict(),
    /** Model tiers, cheapest first, and where a step starts and may end (agents/llm/routing.ts). Absent: the one model
     *  of llm_config is the role's only tier. */
    models: modelsSchema.optional(),
  })
  .strict()
  .superRefine((role, ctx) => {
    if (role.models) modelIssues(role.models, ctx);
    role.constraints.forbidden_topics.forEach((t, i) => {
      // A topic without patterns or a detector is a semantic rule: only the model judge can check it.
      if (!t.patterns.length && !t.detector && !role.constraints.model_judge) {
        ctx.addIssue({ code: 'custom', path: ['constraints', 'forbidden_topics', i, 'patterns'], message: 'needs at least one pattern or a detector (or model_judge: true, to be checked by meaning only)' });
      }
    });
    const servers = new Set(role.tools.mcp_servers.map((s) => s.name));
    role.tools.allow.forEach((tool, i) => {
      const server = tool.includes('.') ? tool.split('.')[0]! : undefined;
      if (server && !servers.has(server)) ctx.addIssue({ code: 'custom', path: ['tools', 'allow', i], message: `names MCP server "${server}", which is not in tools.mcp_servers` });
    });
  });

export type Role = z.infer<typeof roleSchema>;
