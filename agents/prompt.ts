// Builds what a role agent sends to its model: the role's instructions, and the work so far as context.
import type { Role } from './roles';

export interface StepContext {
  request: string;
  previous: { roleName: string; output: string }[];
  threadNotes: { userId: string; text: string }[];
  revision?: { previousOutput: string; feedback: string };
}

export function systemPrompt(role: Role): string {
  return `You are the ${role.persona.display_name}, working with a software team in a chat thread.\n${role.instructions.trim()}\n\nCommunication style: ${role.persona.style}\nAnswer in Slack-friendly markdown. Do not greet; start with the content.`;
}

export function userPrompt(ctx: StepContext): string {
  const parts = [`Request: ${ctx.request.replace(/\s+/g, ' ').trim()}`];
  for (const p of ctx.previous) parts.push(`## Output of the ${p.roleName}\n${p.output}`);
  if (ctx.threadNotes.length) parts.push(`## Notes from people in the thread\n${ctx.threadNotes.map((n) => `- ${n.userId}: ${n.text}`).join('\n')}`);
  if (ctx.revision) {
    parts.push(`## Your previous draft\n${ctx.revision.previousOutput}`);
    parts.push(`## Changes requested by the reviewer\n${ctx.revision.feedback}\nRevise your draft to address them.`);
  }
  return parts.join('\n\n');
}
