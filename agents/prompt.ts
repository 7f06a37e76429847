// Builds what a role agent sends to its model: the role's instructions, and the work so far as context.
import type { Role } from './roles';

import { QUESTION_FIELD } from './output-schema';
import { quoteFile } from './files/quote';
import type { ChatImage } from './llm/provider';

/** A file shared in the workflow's thread, as it goes into a role's prompt (its text only as quoted data). */
export interface PromptFile {
  name: string;
  kind: string;
  /** "pdf, 12 KB, 3 pages", "image, 800×600" (the one line every model, the demo model too, is told). */
  description: string;
  /** The text the role sees: as extracted, or partly summarised (notes say which parts). */
  text: string;
  truncated: boolean;
  /** What was done to it: summarised parts, OCR instead of the image, ... */
  notes: string[];
}

export interface StepContext {
  request: string;
  previous: { roleName: string; output: string }[];
  threadNotes: { userId: string; text: string }[];
  revision?: { previousOutput: string; feedback: string };
  /** The role asked the people in the thread a question, and this is the answer. */
  question?: { question: string; answer: string };
  /** Whether the role may ask the people in the thread one question instead of answering. */
  mayAsk?: boolean;
  /** The requester's language by name (e.g. "German") when it is not English: the role answers in it. */
  language?: string;
  /** Files shared in the thread that could be read. */
  files?: PromptFile[];
  /** Images that go to the model as image parts (set only when the role's model can see images). */
  images?: ChatImage[];
}

/** The line that names one file in a prompt: "File 2: shot.png (image, 800×600)". */
export const fileLine = (n: number, f: Pick<PromptFile, 'name' | 'description'>) => `File ${n}: ${f.name.replace(/\s+/g, ' ').slice(0, 200)} (${f.description})`;

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
  if (ctx.files?.length) {
    const files = ctx.files.map((f, i) => [fileLine(i + 1, f), ...f.notes.map((n) => `Note: ${n}`), quoteFile({ name: f.name, kind: f.kind, text: f.text, truncated: f.truncated })].join('\n'));
    parts.push(`## Files shared in the thread\n${files.join('\n\n')}`);
  }
  if (ctx.question) parts.push(`## You asked the people in the thread\n${ctx.question.question}\n## Their answer\n${ctx.question.answer}`);
  if (ctx.language) parts.push(`The requester wrote in ${ctx.language}: write your answer in ${ctx.language} unless your instructions name another language. Keep JSON field names, code and identifiers as they are.`);
  if (ctx.mayAsk) parts.push(`If you cannot do this well without information only the requester has, you may instead set "${QUESTION_FIELD}" to one short question (and still fill the other fields as best you can).`);
  return parts.join('\n\n');
}
