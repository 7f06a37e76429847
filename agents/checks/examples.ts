// Runs each forbidden topic's own examples (roles/*.yaml `examples: {violating, clean}`) through the same topic check
// a step uses (constraints.ts topicMatch), so a role author sees at once whether a rule catches what it should and
// lets through what it should. Used by `npm run roles:check`.
// Invariant: a violating example passes only when its own topic catches it; a clean one only when its topic does not.
// Semantic topics (no patterns, no detector) are judged by the model only: their examples are reported, not run.
import { TIMED_OUT, topicMatch } from '../constraints';
import type { Role } from '../role-schema';

export interface ExampleResult {
  roleId: string;
  topicId: string;
  kind: 'violating' | 'clean';
  text: string;
  /** Whether the example behaved as labelled; undefined when it cannot be checked offline (semantic topic). */
  ok: boolean | undefined;
  /** What the topic matched, when it did. */
  found?: string;
}

export function checkRoleExamples(roles: Iterable<Role>): ExampleResult[] {
  const results: ExampleResult[] = [];
  for (const role of roles) {
    for (const topic of role.constraints.forbidden_topics) {
      const semantic = !topic.patterns.length && !topic.detector;
      for (const kind of ['violating', 'clean'] as const) {
        for (const text of topic.examples?.[kind] ?? []) {
          if (semantic) {
            results.push({ roleId: role.role_id, topicId: topic.id, kind, text, ok: undefined });
            continue;
          }
          const m = topicMatch(topic, text);
          if (m === TIMED_OUT) {
            results.push({ roleId: role.role_id, topicId: topic.id, kind, text, ok: false, found: 'the check ran out of time' });
            continue;
          }
          results.push({ roleId: role.role_id, topicId: topic.id, kind, text, ok: kind === 'violating' ? m !== undefined : m === undefined, found: m });
        }
      }
    }
  }
  return results;
}

/** Topics that have no examples of one kind (a rule nobody has tried on a case). */
export function topicsWithoutExamples(roles: Iterable<Role>): { roleId: string; topicId: string; missing: ('violating' | 'clean')[] }[] {
  const out = [];
  for (const role of roles) {
    for (const t of role.constraints.forbidden_topics) {
      const missing = (['violating', 'clean'] as const).filter((k) => !(t.examples?.[k].length));
      if (missing.length) out.push({ roleId: role.role_id, topicId: t.id, missing });
    }
  }
  return out;
}
