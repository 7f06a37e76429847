// The fields of incoming Bot Framework activities that Rolecall uses, validated at the boundary.
import { createHash } from 'node:crypto';
import { ACTION_IDS } from '../../orchestrator/contract';
import type { InboundFile } from '../../orchestrator/chat';
import { MAX_MESSAGE_FILES } from '../../orchestrator/jobs';
import { z } from 'zod';

const Account = z.object({ id: z.string().min(1), name: z.string().optional(), aadObjectId: z.string().optional() });

export const IncomingActivity = z.object({
  type: z.string().min(1),
  id: z.string().min(1).optional(),
  /** When the activity was sent (ISO 8601, set by the channel). */
  timestamp: z.string().max(64).optional(),
  name: z.string().optional(),
  channelId: z.string().min(1),
  serviceUrl: z.string().url(),
  conversation: z.object({ id: z.string().min(1), conversationType: z.string().optional(), tenantId: z.string().optional() }),
  from: Account,
  recipient: Account,
  text: z.string().optional(),
  replyToId: z.string().optional(),
  value: z.unknown().optional(),
  entities: z.array(z.object({ type: z.string().optional(), mentioned: z.object({ id: z.string() }).optional() }).passthrough()).optional(),
  channelData: z.object({ tenant: z.object({ id: z.string() }).optional(), team: z.object({ id: z.string() }).optional() }).passthrough().optional(),
  /** Files and inline images (and the message's own HTML body, and cards): what Rolecall reads is picked by filesOf. */
  attachments: z.array(z.object({
    contentType: z.string().max(200),
    contentUrl: z.string().max(4000).optional(),
    name: z.string().max(1000).optional(),
    content: z.unknown().optional(),
  }).passthrough()).max(100).optional(),
});
export type IncomingActivity = z.infer<typeof IncomingActivity>;

/** What our card buttons carry (Action.Execute data, or the Action.Submit value), plus the feedback input. */
export const CardActionData = z.object({
  rolecall: z.object({ action: z.enum(ACTION_IDS), value: z.string().min(1).max(200) }),
  feedback: z.string().max(4000).optional(),
});
export type CardActionData = z.infer<typeof CardActionData>;

export const ExecuteInvokeValue = z.object({
  action: z.object({ type: z.literal('Action.Execute'), verb: z.string().optional(), data: z.unknown() }),
});

/** A file shared in a chat with the bot: Teams hands a pre-authorised download URL (no token is sent to it). */
const DownloadInfo = z.object({ downloadUrl: z.string().url().max(4000), uniqueId: z.string().max(300).optional(), fileType: z.string().max(50).optional() });
export const TEAMS_FILE_DOWNLOAD = 'application/vnd.microsoft.teams.file.download.info';

const digest = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 24);
const IMAGE_EXT: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/gif': 'gif', 'image/webp': 'webp', 'image/heic': 'heic', 'image/svg+xml': 'svg' };

/** The message's files as references for the worker (at most MAX_MESSAGE_FILES): files shared in a chat (download
 *  info), inline images and pasted screenshots (hosted content, fetched with the bot's token, so only when on the
 *  activity's serviceUrl host, which the edge checked against the token), and files linked from a channel message
 *  (`reference`: fetched without a token; Teams gives a bot those only through Microsoft Graph, so they are usually
 *  refused, and the thread is told). The message's HTML body and cards are not files. */
export function filesOf(a: IncomingActivity): InboundFile[] {
  const service = safeOrigin(a.serviceUrl);
  const out: InboundFile[] = [];
  for (const [i, att] of (a.attachments ?? []).entries()) {
    if (att.contentType === TEAMS_FILE_DOWNLOAD) {
      const info = DownloadInfo.safeParse(att.content);
      if (!info.success) continue;
      out.push({ id: info.data.uniqueId ?? digest(info.data.downloadUrl), name: att.name?.trim() || `file-${i + 1}${info.data.fileType ? `.${info.data.fileType}` : ''}`, url: info.data.downloadUrl });
    } else if (att.contentType.startsWith('image/') && att.contentUrl && safeOrigin(att.contentUrl)) {
      const hosted = safeOrigin(att.contentUrl) === service || HOSTED_CONTENT_HOSTS.some((h) => new URL(att.contentUrl!).hostname.endsWith(h));
      const ext = IMAGE_EXT[att.contentType.split(';')[0]!.trim()] ?? 'png';
      out.push({ id: digest(att.contentUrl), name: att.name?.trim() || `image-${i + 1}.${ext}`, url: att.contentUrl, mime: att.contentType, ...(hosted ? { auth: 'platform' as const } : {}) });
    } else if (att.contentType === 'reference' && att.contentUrl && safeOrigin(att.contentUrl)) {
      out.push({ id: digest(att.contentUrl), name: att.name?.trim() || `file-${i + 1}`, url: att.contentUrl });
    }
  }
  return out.slice(0, MAX_MESSAGE_FILES);
}

/** Hosts of Teams' hosted content (inline images in channel messages) that take the bot's token. */
const HOSTED_CONTENT_HOSTS = ['.asm.skype.com', 'smba.trafficmanager.net', '.botframework.com'];

function safeOrigin(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.hostname === '127.0.0.1' || u.hostname === 'localhost' ? u.origin : undefined;
  } catch {
    return undefined;
  }
}

export const userIdOf = (a: IncomingActivity) => a.from.aadObjectId ?? a.from.id;
export const teamIdOf = (a: IncomingActivity) => a.channelData?.team?.id ?? a.conversation.tenantId ?? a.channelData?.tenant?.id ?? 'teams';

export function isMentioned(a: IncomingActivity): boolean {
  if (a.conversation.conversationType === 'personal') return true;
  return (a.entities ?? []).some((e) => e.type === 'mention' && e.mentioned?.id === a.recipient.id);
}

/** The text a person wrote, without <at> mentions of the bot and without HTML. */
export function plainText(a: IncomingActivity): string {
  return (a.text ?? '')
    .replace(/<at>[^<]*<\/at>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

/** When the person sent the activity, as ISO 8601 (undefined when absent or unreadable: arrival time is used). */
export function sentAtOf(a: IncomingActivity): string | undefined {
  const t = a.timestamp ? Date.parse(a.timestamp) : NaN;
  return Number.isFinite(t) ? new Date(t).toISOString() : undefined;
}
