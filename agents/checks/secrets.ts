// Finds credentials in text with gitleaks' default rules (vendored in secrets/gitleaks.toml, see its update script)
// plus Rolecall's rules and placeholder allow-list (secrets/rolecall.toml), both in gitleaks' TOML format.
// Invariant: every rule runs on RE2JS (linear time), only when one of its keywords is in the text (gitleaks'
// prefilter), over a bounded input, with a bounded number of matches per rule, and stops at the caller's deadline.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RE2JS } from 're2js';
import { parse } from 'smol-toml';
import { z } from 'zod';
import { OperatorError, errorMessage } from '../errors';

/** One finding: which rule, where the secret is in the text, and a masked form that is safe to show or store. */
export interface SecretHit {
  ruleId: string;
  description: string;
  start: number;
  end: number;
  masked: string;
}

/** The rule files cannot be read or used: the installation is broken (an operator's problem, named with the file). */
export class SecretRulesError extends OperatorError {
}

const regexList = z.array(z.string()).default([]);
const allowlistSchema = z.object({
  description: z.string().optional(),
  condition: z.enum(['OR', 'AND']).default('OR'),
  regexTarget: z.enum(['secret', 'match', 'line']).default('secret'),
  regexes: regexList,
  stopwords: z.array(z.string()).default([]),
  paths: regexList,
  commits: z.array(z.string()).optional(),
});
const ruleSchema = z.object({
  id: z.string().min(1),
  description: z.string().default(''),
  regex: z.string().optional(),
  secretGroup: z.number().int().min(0).optional(),
  entropy: z.number().min(0).optional(),
  keywords: z.array(z.string()).default([]),
  path: z.string().optional(),
  allowlists: z.array(allowlistSchema).default([]),
  allowlist: allowlistSchema.optional(),
  tags: z.array(z.string()).optional(),
});
const fileSchema = z.object({ title: z.string().optional(), allowlist: allowlistSchema.optional(), allowlists: z.array(allowlistSchema).default([]), rules: z.array(ruleSchema).default([]) });

interface Allowlist {
  and: boolean;
  target: 'secret' | 'match' | 'line';
  regexes: RE2JS[];
  stopwords: string[];
}

interface Rule {
  id: string;
  description: string;
  /** Compiled on first use (compiling all ~200 rules takes most of a second; a text needs a few of them). */
  regex: () => RE2JS;
  secretGroup?: number;
  entropy?: number;
  keywords: string[];
  allowlists: Allowlist[];
}

interface RuleSet {
  rules: Rule[];
  global: Allowlist[];
}

/** The rule files, in the order they are read: gitleaks' defaults, then Rolecall's additions. */
export const SECRET_RULE_FILES = ['secrets/gitleaks.toml', 'secrets/rolecall.toml'].map((f) => fileURLToPath(new URL(f, import.meta.url)));

/** Matches examined per rule (a text full of look-alikes cannot make one rule run forever). */
const MAX_MATCHES_PER_RULE = 50;

let loaded: RuleSet | undefined;

/** The rule set (read once per process; each rule's expression is compiled when a text first needs it). */
export function secretRules(): RuleSet {
  loaded ??= loadRuleFiles(SECRET_RULE_FILES);
  return loaded;
}

/** Compiles every rule now: a rule RE2 cannot compile throws SecretRulesError naming the file and the rule. */
export function compileAll(set: RuleSet): number {
  for (const r of set.rules) r.regex();
  return set.rules.length;
}

export function loadRuleFiles(files: string[]): RuleSet {
  const set: RuleSet = { rules: [], global: [] };
  for (const file of files) {
    let parsed: z.infer<typeof fileSchema>;
    try {
      parsed = fileSchema.parse(parse(readFileSync(file, 'utf8')));
    } catch (e) {
      throw new SecretRulesError(`${file}: ${errorMessage(e)}`);
    }
    const where = (what: string) => `${file}: ${what}`;
    for (const a of [...(parsed.allowlist ? [parsed.allowlist] : []), ...parsed.allowlists]) set.global.push(allowlistOf(a, where('[allowlist]')));
    for (const r of parsed.rules) {
      if (!r.regex) continue; // path-only rules are about file names, which an output has none of
      const allowlists = [...(r.allowlist ? [r.allowlist] : []), ...r.allowlists].map((a) => allowlistOf(a, where(`rule ${r.id} allowlist`)));
      const source = r.regex;
      let compiled: RE2JS | undefined;
      const regex = () => (compiled ??= compile(source, where(`rule ${r.id}`)));
      set.rules.push({ id: r.id, description: r.description, regex, secretGroup: r.secretGroup, entropy: r.entropy, keywords: r.keywords.map((k) => k.toLowerCase()), allowlists });
    }
  }
  // Specific rules first: where a generic rule (generic-api-key) and a specific one find the same secret, the
  // finding names the specific one (one finding per place in the text).
  set.rules = [...set.rules.filter((r) => !r.id.startsWith('generic-')), ...set.rules.filter((r) => r.id.startsWith('generic-'))];
  return set;
}

function allowlistOf(a: z.infer<typeof allowlistSchema>, where: string): Allowlist {
  return { and: a.condition === 'AND', target: a.regexTarget, regexes: a.regexes.map((r) => compile(r, where)), stopwords: a.stopwords.map((s) => s.toLowerCase()) };
}

function compile(pattern: string, where: string): RE2JS {
  try {
    return RE2JS.compile(pattern);
  } catch (e) {
    throw new SecretRulesError(`${where}: ${errorMessage(e)}`);
  }
}

/**
 * The secrets in `text`, at most `limit` of them. Stops at `deadline` (performance.now() milliseconds) and then
 * returns what it found with `complete: false`: the caller decides (the constraint check fails closed).
 */
export function findSecrets(text: string, deadline = Number.POSITIVE_INFINITY, limit = 20): { hits: SecretHit[]; complete: boolean } {
  const { rules, global } = secretRules();
  const lower = text.toLowerCase();
  const hits: SecretHit[] = [];
  for (const rule of rules) {
    if (rule.keywords.length && !rule.keywords.some((k) => lower.includes(k))) continue;
    if (performance.now() > deadline) return { hits, complete: false };
    const m = rule.regex().matcher(text);
    for (let n = 0; n < MAX_MATCHES_PER_RULE && m.find(); n++) {
      const group = secretGroupOf(rule, m);
      const secret = m.group(group) ?? '';
      if (!secret) continue;
      if (rule.entropy !== undefined && shannonEntropy(secret) < rule.entropy) continue;
      const start = m.start(group);
      const end = m.end(group);
      const match = m.group() ?? secret;
      const line = lineAround(text, m.start(), m.end());
      if ([...global, ...rule.allowlists].some((a) => allows(a, secret, match, line))) continue;
      if (hits.some((h) => h.start < end && start < h.end)) continue; // one finding per place in the text
      hits.push({ ruleId: rule.id, description: rule.description, start, end, masked: mask(secret) });
      if (hits.length >= limit) return { hits, complete: true };
    }
  }
  return { hits, complete: true };
}

/** The text with every secret found replaced by a marker naming its rule (for output that is shown despite a hit). */
export function redactSecrets(text: string, hits: SecretHit[]): string {
  let out = '';
  let at = 0;
  for (const h of [...hits].sort((a, b) => a.start - b.start)) {
    if (h.start < at) continue;
    out += `${text.slice(at, h.start)}[secret removed: ${h.ruleId}]`;
    at = h.end;
  }
  return out + text.slice(at);
}

/** gitleaks: the rule's secretGroup, else the first non-empty capture group, else the whole match. */
function secretGroupOf(rule: Rule, m: ReturnType<RE2JS['matcher']>): number {
  if (rule.secretGroup !== undefined && rule.secretGroup <= m.groupCount()) return rule.secretGroup;
  for (let g = 1; g <= m.groupCount(); g++) if (m.group(g)) return g;
  return 0;
}

function allows(a: Allowlist, secret: string, match: string, line: string): boolean {
  const target = a.target === 'match' ? match : a.target === 'line' ? line : secret;
  const checks: boolean[] = [];
  if (a.regexes.length) checks.push(a.regexes.some((r) => r.test(target)));
  if (a.stopwords.length) {
    const s = secret.toLowerCase();
    checks.push(a.stopwords.some((w) => s.includes(w)));
  }
  if (!checks.length) return false;
  return a.and ? checks.every(Boolean) : checks.some(Boolean);
}

function lineAround(text: string, start: number, end: number): string {
  const from = text.lastIndexOf('\n', start - 1) + 1;
  const to = text.indexOf('\n', end);
  return text.slice(from, to < 0 ? text.length : Math.min(to, end + 2_000));
}

/** Shannon entropy in bits per character, as gitleaks computes it. */
export function shannonEntropy(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/** Enough of a secret to recognise it, never enough to use it. */
export function mask(secret: string): string {
  return `${secret.slice(0, Math.min(4, Math.floor(secret.length / 4)))}… (${secret.length} characters)`;
}
