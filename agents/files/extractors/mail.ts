// Mail: EML (mailparser) and Outlook MSG (@kenjiuno/msgreader). Invariant: headers and body first, then each
// attachment read through the same dispatcher (ctx.nested) with the shared limits; attachments past maxDepth or
// maxEntries are listed, not read; an attachment that fails is a note in the text, never a failed mail.
import * as msgreader from '@kenjiuno/msgreader';
import { simpleParser } from 'mailparser';
import { errorMessage } from '../../errors';
import { CorruptFile } from '../errors';
import type { FileSection } from '../types';
import { type ExtractContext, type Extractor, nestedSections } from './context';
import { htmlToMarkedText } from './markup';

interface Attachment {
  name: string;
  read(): Uint8Array;
}

async function withAttachments(head: FileSection, attachments: Attachment[], ctx: ExtractContext) {
  const sections: FileSection[] = [head];
  for (const [i, a] of attachments.entries()) {
    const label = `attachment ${a.name || `#${i + 1}`}`;
    if (ctx.depth + 1 > ctx.limits.maxDepth || ctx.counters.entries >= ctx.limits.maxEntries) {
      sections.push({ kind: 'attachment', title: label, level: ctx.depth + 1, text: '[not read: nesting or entry limit]' });
      ctx.warnings.push(`${label} was not read (limit)`);
      continue;
    }
    ctx.counters.entries++;
    const result = await ctx.nested(a.read(), a.name || `attachment-${i + 1}`);
    if (!('structure' in result)) ctx.warnings.push(`${label}: ${result.message}`);
    sections.push(...nestedSections(label, 'attachment', result, ctx.depth + 1));
  }
  return sections;
}

export const extractEml: Extractor = async ({ bytes, name }, ctx) => {
  let mail: Awaited<ReturnType<typeof simpleParser>>;
  try {
    mail = await simpleParser(Buffer.from(bytes), { skipImageLinks: true, skipTextLinks: true, maxHtmlLengthToParse: ctx.limits.maxBytes });
  } catch (e) {
    throw new CorruptFile(name, errorMessage(e));
  }
  const addr = (a: typeof mail.to) => (Array.isArray(a) ? a.map((x) => x.text).join(', ') : a?.text ?? '');
  const body = mail.text?.trim() || (mail.html ? htmlToMarkedText(mail.html).replace(/\u001eH\d\u001f/g, '') : '');
  const headers = [`From: ${mail.from?.text ?? ''}`, `To: ${addr(mail.to)}`, ...(mail.cc ? [`Cc: ${addr(mail.cc)}`] : []), `Date: ${mail.date?.toISOString() ?? ''}`, `Subject: ${mail.subject ?? ''}`];
  const head: FileSection = { kind: 'message', title: mail.subject || 'Message', text: `${headers.join('\n')}\n\n${body}`.trim() };
  const sections = await withAttachments(head, mail.attachments.map((a) => ({ name: a.filename ?? '', read: () => new Uint8Array(a.content) })), ctx);
  return { sections, meta: { ...(mail.subject ? { title: mail.subject } : {}), author: mail.from?.text ?? '', attachments: mail.attachments.length } };
};

// A CommonJS module with an ES-style default export: under Node's ESM loader the class is default.default.
const MsgReader: typeof msgreader.default = (msgreader.default as unknown as { default?: typeof msgreader.default }).default ?? msgreader.default;

export const extractMsg: Extractor = async ({ bytes, name }, ctx) => {
  const copy = new Uint8Array(bytes).buffer;
  const reader = new MsgReader(copy);
  const data = reader.getFileData();
  if (data.error) throw new CorruptFile(name, data.error);
  const recipients = (data.recipients ?? []).map((r) => (r.email ? `${r.name ?? ''} <${r.email}>`.trim() : r.name ?? '')).join(', ');
  const headers = [`From: ${data.senderName ?? ''}${data.senderEmail ? ` <${data.senderEmail}>` : ''}`, `To: ${recipients}`, `Date: ${data.messageDeliveryTime ?? data.clientSubmitTime ?? ''}`, `Subject: ${data.subject ?? ''}`];
  const head: FileSection = { kind: 'message', title: data.subject || 'Message', text: `${headers.join('\n')}\n\n${(data.body ?? '').trim()}`.trim() };
  const attachments = (data.attachments ?? []).filter((a) => !a.innerMsgContent).map((a, i) => ({
    name: a.fileName ?? `attachment-${i + 1}`,
    read: () => reader.getAttachment(a).content,
  }));
  const sections = await withAttachments(head, attachments, ctx);
  return { sections, meta: { ...(data.subject ? { title: data.subject } : {}), author: data.senderName ?? '', attachments: attachments.length } };
};
