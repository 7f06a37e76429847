// The built-in forbidden-topic detectors (agents/checks/): secrets with gitleaks' rules and Rolecall's placeholder
// allow-list, effort estimates, and code by its shape; each with the false-positive traps it must let through, and the
// way checkOutput uses them (question_for_requester checked too, secrets masked in details and removed from held text).
import { describe, expect, it } from 'vitest';
import { checkOutput, forbiddenTopicHits, MAX_QUESTION_CHARS } from '../../agents/constraints';
import { codeBlocks, lineScore, STRONG_LINE } from '../../agents/checks/code-shape';
import { findEstimates } from '../../agents/checks/effort';
import { compileAll, findSecrets, loadRuleFiles, mask, redactSecrets, SECRET_RULE_FILES, shannonEntropy } from '../../agents/checks/secrets';
import { instanceOf } from '../../agents/llm/demo';
import { responseSchema } from '../../agents/output-schema';
import { loadRoles, type Role } from '../../agents/roles';

const roles = loadRoles('roles');
const ba = roles.get('business_analyst')!;
const ta = roles.get('technical_architect')!;
const dev = roles.get('developer')!;

const GHP = 'ghp_k3Jd9QmLx2Vb7RtY5nW8pZc4Hs6Af1Ge0UiO';
const rules = (text: string) => findSecrets(text).hits.map((h) => h.ruleId);

describe('secrets (gitleaks rules + Rolecall rules, on RE2JS)', () => {
  it('loads every vendored gitleaks rule and Rolecall rule, each compiled by RE2JS', () => {
    const set = loadRuleFiles(SECRET_RULE_FILES);
    expect(compileAll(set)).toBeGreaterThan(200);
    expect(set.rules.map((r) => r.id)).toEqual(expect.arrayContaining(['github-pat', 'stripe-access-token', 'gcp-api-key', 'slack-webhook-url', 'generic-api-key', 'rolecall-url-password', 'rolecall-hex-signing-secret']));
  });

  it.each([
    ['an OpenAI project key', `OPENAI_API_KEY=sk-proj-${'Ab3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5bC7dE9fG1hJ3kL5'}`, 'rolecall-openai-project-key'],
    ['a Stripe live key', 'STRIPE_SECRET_KEY=sk_live_51HxQ2bK8vR3mT7nW9pL4cZ6yF1aD0sG', 'stripe-access-token'],
    ['a GitHub token', `git clone https://${GHP}@github.com/acme/app.git`, 'github-pat'],
    ['a Google API key', 'key AIzaSyD8f3K9mQ2xV7bN4pL1cR6tY0wE5uI3oA8 for maps', 'gcp-api-key'],
    ['a password in a database URL', 'DATABASE_URL=postgres://billing:Tr0ub4dor-x92q@db.internal:5432/billing', 'rolecall-url-password'],
    ['a Slack webhook URL', 'https://hooks.slack.com/services/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', 'slack-webhook-url'],
    ['a hex signing secret', 'verified with the signing secret `3b9c1f0e7a4d2b8c6e5f1a0d9c8b7a6f5e4d3c2b`', 'rolecall-hex-signing-secret'],
    ['a password given in prose', 'sign in as admin with password: Zq8rT2vLp9wX4', 'rolecall-password-assignment'],
  ])('finds %s', (_what, text, rule) => {
    expect(rules(text)).toContain(rule);
  });

  it.each([
    ['a Slack token placeholder', 'Set SLACK_BOT_TOKEN=xoxb-your-bot-token in .env'],
    ['an OpenAI key placeholder', 'OPENAI_API_KEY=sk-your-key-here'],
    ['a placeholder database URL', 'postgres://user:password@localhost:5432/app'],
    ['an environment variable in a URL', 'postgresql://app:${DB_PASSWORD}@db:5432/app'],
    ['Slack\'s documented webhook placeholder', 'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX'],
    ['an x-ed out key', 'STRIPE_SECRET_KEY=sk_live_xxxxxxxxxxxxxxxxxxxxxxxx'],
    ['a commit sha', 'introduced by commit 3f9a1c2e8b7d6f5a4e3d2c1b0a9f8e7d6c5b4a39'],
    ['a GitHub Actions expression', 'GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}'],
    ['a default local password', 'POSTGRES_PASSWORD: changeme for local runs only'],
    ['prose about secrets', 'The signing secret is read from SLACK_SIGNING_SECRET at start-up and never logged.'],
  ])('lets %s through', (_what, text) => {
    expect(findSecrets(text).hits).toEqual([]);
  });

  it('masks what it reports and removes secrets from text that is shown anyway', () => {
    const text = `clone with ${GHP} please`;
    const { hits } = findSecrets(text);
    expect(hits[0]).toMatchObject({ ruleId: 'github-pat', masked: 'ghp_… (40 characters)' });
    expect(redactSecrets(text, hits)).toBe('clone with [secret removed: github-pat] please');
    expect(mask('abcdefgh')).toBe('ab… (8 characters)');
    expect(shannonEntropy('aaaa')).toBe(0);
  });

  it('stops at the deadline and says the search is incomplete', () => {
    expect(findSecrets(`token=${GHP}`, performance.now() - 1)).toEqual({ hits: [], complete: false });
  });
});

describe('effort estimates', () => {
  it.each(['This is roughly two sprints of work.', 'Delivery estimate: ~3 weeks.', 'Story 2 is 8 SP.', 'It will take about 10 dev-days.', 'Expect 40 hours for the integration.', 'I estimate it at 1.5 man-months.', 'Manual testing needs 16h of effort.', 'ETA: two weeks from approval.', 'This should be done in a couple of days.', 'Build ≈ 4–6 weeks.', 'We can ship it within 3 weeks.'])('finds "%s"', (text) => {
    expect(findEstimates(text)).toHaveLength(1);
  });

  it.each(['Incident counts over the last 3 sprints show the login page is the top complaint.', 'Password reset links expire after 24 hours.', 'Audit logs are kept for 90 days.', 'Release notes are published every 2 weeks.', 'Retries back off for up to 2 hours before the job fails.', 'Users who have not signed in for 6 months are dormant.', 'Out of scope: estimating effort.', 'Tickets drop by 40% within 3 months of launch.'])('lets "%s" through', (text) => {
    expect(findEstimates(text)).toEqual([]);
  });
});

describe('code by its shape', () => {
  it.each([
    ['a Python function', 'def is_eligible(user):\n    if user.age < 18:\n        return False\n    return True'],
    ['a Java method', 'public boolean isEligible(User user) {\n    return user.getAge() >= 18;\n}'],
    ['a one-line arrow function in a sentence', 'The total is const total = items.reduce((sum, i) => sum + i.price, 0);'],
    ['a diff', '--- a/src/login.ts\n+++ b/src/login.ts\n@@ -12,7 +12,7 @@\n-  if (attempts > 5) lock(user);\n+  if (attempts >= 5) lock(user);'],
    ['a ~~~ fence', '~~~\nfor (const s of steps) {\n  await run(s);\n}\n~~~'],
    ['an indented block', 'The rule:\n\n    if order.total > 1000:\n        require_approval(order)\n    else:\n        auto_approve(order)'],
    ['an unfenced implementation', 'Fix it like this\nif (!EMAIL_RE.test(value)) {\n  throw new ValidationError("email");\n}'],
    ['upper-case SQL', "SELECT id, email FROM users WHERE last_login < NOW() - INTERVAL '90 days';"],
    ['a Go function', 'func Eligible(u User) bool {\n\treturn u.Age >= 18\n}'],
    ['a Ruby method', 'def eligible?(user)\n  user.age >= 18 && user.verified?\nend'],
    ['a Kotlin one-liner after a colon', 'Replace it with: fun isValid(email: String): Boolean = EMAIL_REGEX.matches(email)'],
    ['a fenced bash command', '```bash\nnpm run migrate\n```'],
  ])('finds %s', (_what, text) => {
    expect(codeBlocks(text).length).toBeGreaterThan(0);
  });

  it.each([
    ['plain English with select … from', 'Finance staff select all invoices from the previous month and export them.'],
    ['plain English with import … from', 'As a sales rep, I want to import contacts from a CSV file.'],
    ['Gherkin in a fence', '```gherkin\nScenario: Locked account\n  Given a user with 5 failed sign-ins\n  Then they see "Account locked"\n```'],
    ['JSON data in a fence', '```\n{"status": "ok", "items": [1, 2]}\n```'],
    ['a function name in backticks', 'Next: the Developer implements the `refund()` endpoint.'],
    ['semicolon-separated steps', "Steps: 1) open /login; 2) enter a@b.c; 3) submit; expected: 'invalid password'."],
    ['an API in prose', 'POST /api/v1/invoices {customer_id, lines[]} → 201 {id}; GET /api/v1/invoices/:id → 200.'],
    ['if/then prose', 'If the invoice is overdue, then the customer gets a reminder; else nothing is sent.'],
    ['a sentence that starts with Return', 'Return: customers may return goods within the policy window.'],
  ])('lets %s through', (_what, text) => {
    expect(codeBlocks(text)).toEqual([]);
  });

  it('measures each fenced sketch on its own (two short sketches are not one long block)', () => {
    const sketch = (name: string) => `\`\`\`ts\ninterface ${name} {\n  get(id: string): Promise<Item | undefined>;\n  save(item: Item): Promise<void>;\n  list(page: Page): Promise<Item[]>;\n}\n\`\`\``;
    const text = `${sketch('InvoiceStore')}\n${'The gateway wraps the provider and keeps no state beyond an idempotency key per charge. '.repeat(6)}\n${sketch('PaymentGateway')}`;
    expect(text.length).toBeGreaterThan(600);
    expect(codeBlocks(text).map((b) => b.lines)).toEqual([5, 5]);
    expect(forbiddenTopicHits(ta, text)).toEqual([]);
    const long = `\`\`\`python\n${Array.from({ length: 20 }, (_, i) => `x${i} = compute(${i})`).join('\n')}\n\`\`\``;
    expect(forbiddenTopicHits(ta, long)).toEqual([{ kind: 'forbidden_topic', detail: expect.stringMatching(/^full_implementation: .*20 lines of code \(more than 12\)/) }]);
  });

  it('scores lines: a definition with a body is strong, prose is zero', () => {
    expect(lineScore('function notify(u: User): void { send(u.email); }')).toBeGreaterThanOrEqual(STRONG_LINE);
    expect(lineScore('Users can filter by status (open, paid, overdue) and sort by date.')).toBe(0);
  });

  it('takes bounded time on long adversarial lines', () => {
    const nasty = ['a'.repeat(20_000), `${'x.'.repeat(5_000)}(`, `const ${'a '.repeat(5_000)}`, `SELECT ${'SELECT '.repeat(3_000)}`, `public ${'int '.repeat(5_000)}`].join('\n');
    const t = performance.now();
    codeBlocks(nasty.repeat(5));
    findEstimates(`${'about 1 '.repeat(5_000)}\n`.repeat(5));
    expect(performance.now() - t).toBeLessThan(2_000);
  });
});

/** A schema-valid answer of `role` with `text` in its first text field, plus `extra` top-level fields. */
function answer(role: Role, text: string, extra: Record<string, unknown> = {}): string {
  let done = false;
  const data = instanceOf(responseSchema(role.constraints.required_outputs), () => (done ? 'Plain text.' : ((done = true), text))) as Record<string, unknown>;
  return JSON.stringify({ ...data, ...extra });
}

describe('checkOutput with the shipped roles', () => {
  it('checks question_for_requester like the output', () => {
    const asked = checkOutput(ba, answer(ba, 'Plain requirements.', { question_for_requester: `Should I use ${GHP} for the API?` }));
    expect(asked).toMatchObject({ ok: false, violations: [{ kind: 'forbidden_topic', detail: expect.stringMatching(/^secrets: .*github-pat, ghp_… \(40 characters\)\) in question_for_requester$/) }] });
    expect(JSON.stringify(asked)).not.toContain(GHP);
    expect(checkOutput(ba, answer(ba, 'Plain requirements.', { question_for_requester: 'Is it OK if this takes 2 sprints?' }))).toMatchObject({ ok: false, violations: [{ detail: expect.stringMatching(/^effort_estimates: .* in question_for_requester$/) }] });
    expect(checkOutput(ba, answer(ba, 'Plain requirements.', { question_for_requester: 'x'.repeat(MAX_QUESTION_CHARS + 1) }))).toMatchObject({ ok: false, violations: [{ kind: 'max_output' }] });
    expect(checkOutput(ba, answer(ba, 'Plain requirements.', { question_for_requester: 'Which identity providers must we support?' }))).toMatchObject({ ok: true });
  });

  it('removes the secret from the text of an output that fails, and never puts it in a detail', () => {
    const checked = checkOutput(dev, answer(dev, `Use ${GHP} in CI`));
    expect(checked.ok).toBe(false);
    expect(checked.text).toContain('Use [secret removed: github-pat] in CI');
    expect(JSON.stringify(checked)).not.toContain(GHP);
  });

  it('accepts a valid answer wrapped in an upper-case ```JSON fence', () => {
    expect(checkOutput(ba, '```JSON\n' + answer(ba, 'Customers cannot pay invoices online.') + '\n```')).toMatchObject({ ok: true });
  });

  it('lets the Developer write code, but not a secret', () => {
    expect(checkOutput(dev, answer(dev, 'def f(x):\n    return x + 1'))).toMatchObject({ ok: true });
    expect(checkOutput(dev, answer(dev, 'DATABASE_URL=postgres://billing:Tr0ub4dor-x92q@db.internal:5432/billing'))).toMatchObject({ ok: false, violations: [{ detail: expect.stringMatching(/^secrets: /) }] });
  });
});
