// Downloads a file shared with Rolecall in Teams: the orchestrator's FileDownloader for Teams. A file shared in a chat
// comes with a pre-authorised download URL (SharePoint/OneDrive), fetched without any token; an inline image or pasted
// screenshot is hosted content that needs the bot's Bot Framework token. Invariants: the token is sent only for files
// the edge marked `auth: 'platform'` (hosted content on the activity's authenticated serviceUrl host); only https
// URLs are fetched (loopback http for local development and tests); the body is read as a stream and abandoned past
// maxBytes; a download never hangs (timeout); a refusal is a FileDownloadFailed the thread is told about.
import { FileTooLarge } from '../../agents/files/errors';
import type { InboundFile } from '../../orchestrator/chat';
import { FileDownloadFailed, readBounded, type FileDownloader } from '../../orchestrator/files';
import type { TokenSource } from './tokens';

export interface TeamsFilesOptions {
  /** The bot's outbound tokens (absent in anonymous local development: hosted content is fetched without one). */
  tokens?: TokenSource;
  /** Default 60 s. */
  timeoutMs?: number;
  /** The transport (default: the global fetch; traced when tracing is on, app/runtime.ts). */
  fetch?: typeof globalThis.fetch;
}

const BOT_FRAMEWORK_SCOPE = 'https://api.botframework.com';

export function teamsFiles(options: TeamsFilesOptions): FileDownloader {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const get = options.fetch ?? fetch;
  return {
    async download(file: InboundFile, maxBytes: number): Promise<Uint8Array> {
      let url: URL;
      try {
        url = new URL(file.url);
      } catch {
        throw new FileDownloadFailed(file.name, 'its address is not a URL');
      }
      const loopback = url.hostname === '127.0.0.1' || url.hostname === 'localhost';
      if (url.protocol !== 'https:' && !(loopback && url.protocol === 'http:')) throw new FileDownloadFailed(file.name, 'its address is not https');
      const headers: Record<string, string> = {};
      if (file.auth === 'platform' && options.tokens) headers.authorization = `Bearer ${await options.tokens.get(BOT_FRAMEWORK_SCOPE)}`;
      let res: Response;
      try {
        res = await get(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
      } catch (e) {
        if ((e as Error).name === 'TimeoutError') throw new FileDownloadFailed(file.name, `Teams did not send it within ${Math.round(timeoutMs / 1000)} s`);
        throw e; // the network: passing, the job is tried again
      }
      if (res.status === 401 || res.status === 403 || res.status === 404 || res.status === 410) {
        await res.body?.cancel();
        const hint = file.auth === 'platform' ? '' : '; Teams gives a bot the files shared in a chat with it, not those of a channel: share it in a chat with Rolecall or paste its text';
        throw new FileDownloadFailed(file.name, `the file host answered ${res.status}${hint}`);
      }
      if (!res.ok) {
        await res.body?.cancel();
        throw new Error(`Teams file download answered ${res.status}`); // passing: tried again
      }
      const declared = Number(res.headers.get('content-length'));
      if (Number.isFinite(declared) && declared > maxBytes) {
        await res.body?.cancel();
        throw new FileTooLarge(file.name, declared, maxBytes);
      }
      return readBounded(res, file, maxBytes);
    },
  };
}
