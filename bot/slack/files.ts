// Downloads a file shared in Slack (url_private) with the bot token: the orchestrator's FileDownloader for Slack.
// Invariants: the token is sent only to Slack's file host (files.slack.com) or the configured API's origin (a
// test's fake), never to a URL from elsewhere; the body is read as a stream and abandoned past maxBytes, so an
// oversized file is never held whole; a download never hangs (timeout); Slack's sign-in page (its answer to a
// request without a usable token or the files:read scope) is a refusal, not the file.
import { FileTooLarge } from '../../agents/files/errors';
import type { InboundFile } from '../../orchestrator/chat';
import { FileDownloadFailed, readBounded, type FileDownloader } from '../../orchestrator/files';
import { WorkspaceNotInstalled, type SlackTokens } from './installations';

export interface SlackFilesOptions {
  /** One workspace's token, or each workspace's (installations.ts) when the caller says which workspace. */
  botToken: string | SlackTokens;
  /** The Slack Web API base URL: its origin may serve files too (tests' fake Slack). */
  apiUrl: string;
  /** Default 60 s. */
  timeoutMs?: number;
  /** The transport (default: the global fetch; traced when tracing is on, app/runtime.ts). */
  fetch?: typeof globalThis.fetch;
}

const SLACK_FILE_ORIGINS = ['https://files.slack.com'];

export function slackFiles(options: SlackFilesOptions): FileDownloader {
  const allowed = new Set([...SLACK_FILE_ORIGINS, new URL(options.apiUrl).origin]);
  const timeoutMs = options.timeoutMs ?? 60_000;
  const tokens = options.botToken;
  const get = options.fetch ?? fetch;
  const tokenFor = async (file: InboundFile, teamId: string | undefined): Promise<string> => {
    if (typeof tokens === 'string') return tokens;
    if (!teamId) throw new FileDownloadFailed(file.name, 'the workspace it was shared in is not known');
    try {
      return await tokens.botToken(teamId);
    } catch (e) {
      if (e instanceof WorkspaceNotInstalled) throw new FileDownloadFailed(file.name, `Rolecall is not installed in that workspace (${e.reason})`);
      throw e;
    }
  };
  return {
    async download(file: InboundFile, maxBytes: number, where?: { teamId: string }): Promise<Uint8Array> {
      const url = new URL(file.url);
      if (!allowed.has(url.origin)) throw new FileDownloadFailed(file.name, 'it is not on Slack\'s file host');
      const res = await get(url, { headers: { authorization: `Bearer ${await tokenFor(file, where?.teamId)}` }, signal: AbortSignal.timeout(timeoutMs) });
      if (res.status === 404 || res.status === 403 || res.status === 401 || res.status === 410) {
        await res.body?.cancel();
        throw new FileDownloadFailed(file.name, `Slack answered ${res.status}`);
      }
      if (!res.ok) {
        await res.body?.cancel();
        throw new Error(`Slack file download failed with HTTP ${res.status}`); // passing: the queue retries the job
      }
      if ((res.headers.get('content-type') ?? '').startsWith('text/html') && !/\.html?$/i.test(file.name)) {
        await res.body?.cancel();
        throw new FileDownloadFailed(file.name, 'Slack answered with its sign-in page; does the app have the files:read scope?');
      }
      const declared = Number(res.headers.get('content-length') ?? NaN);
      if (Number.isFinite(declared) && declared > maxBytes) {
        await res.body?.cancel();
        throw new FileTooLarge(file.name, declared, maxBytes);
      }
      return readBounded(res, file, maxBytes);
    },
  };
}
