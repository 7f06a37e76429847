// Offline demo model: deterministic, no network, and it says so in every answer.
import { createHash } from 'node:crypto';
import type { ChatRequest, ChatResult, LlmProvider } from './provider';

export const DEMO_NOTICE = '_Offline demo model: deterministic placeholder text, not an AI answer. Configure OPENAI_API_KEY or OLLAMA_HOST for real output._';

export function demoProvider(): LlmProvider {
  return {
    name: 'demo',
    async complete(req: ChatRequest): Promise<ChatResult> {
      const role = /You are the ([A-Za-z ]+?)[.,]/.exec(req.system)?.[1] ?? 'assistant';
      const request = /^Request: (.*)$/m.exec(req.user)?.[1] ?? req.user.split('\n')[0] ?? '';
      const digest = createHash('sha256').update(req.system + req.user).digest('hex').slice(0, 8);
      const text = [
        DEMO_NOTICE,
        `*${role}* output for: "${request.slice(0, 200)}"`,
        ...demoBody(role, request),
        `(demo digest ${digest})`,
      ].join('\n');
      return { text, model: 'demo', promptTokens: countWords(req.system + req.user), completionTokens: countWords(text) };
    },
  };
}

function demoBody(role: string, request: string): string[] {
  const subject = request.replace(/<@[A-Za-z0-9_]+>/g, '').trim().slice(0, 80) || 'the request';
  switch (role) {
    case 'Business Analyst':
      return [`• As a user, I want ${subject}, so that I can reach my goal.`, '• Acceptance: Given a signed-in user, When they use it, Then it works.'];
    case 'Technical Architect':
      return ['• Components: web front end, API service, identity provider integration.', '• Risk: integration testing with the identity provider.'];
    case 'Developer':
      return ['• Plan: add the route, the service call and the configuration.', '```\n// demo: implementation sketch\n```'];
    case 'QA Tester':
      return ['• Test: happy path per acceptance criterion.', '• Test: invalid input and expired sessions.'];
    case 'Project Manager':
      return ['• Summary: requirements, design, implementation and test plan are ready.', '• Next: schedule the work.'];
    default:
      return [`• Notes on ${subject}.`];
  }
}

const countWords = (s: string) => s.split(/\s+/).filter(Boolean).length;
