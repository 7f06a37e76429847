// The Slack file downloader's bounds: the bot token goes only to Slack's file host or the configured API's origin, a
// body larger than the limit is abandoned (even when no or a false Content-Length is sent), a refusal or Slack's
// sign-in page is FileDownloadFailed, and the file comes back byte for byte otherwise.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileTooLarge } from '../../agents/files/errors';
import { slackFiles } from '../../bot/slack/files';
import { FileDownloadFailed } from '../../orchestrator/files';
import { startLocalServer, type LocalServer } from '../support/local-server';

let server: LocalServer;
const seen: { path: string; auth?: string }[] = [];
beforeAll(async () => {
  server = await startLocalServer((req, res) => {
    seen.push({ path: req.path, auth: req.headers.authorization });
    if (req.path === '/ok') return { headers: { 'content-type': 'application/octet-stream' }, text: 'hello file' };
    if (req.path === '/gone') return { status: 404, text: 'nope' };
    if (req.path === '/login') return { headers: { 'content-type': 'text/html' }, text: '<html>Sign in</html>' };
    if (req.path === '/endless') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' }); // chunked: no Content-Length
      const chunk = Buffer.alloc(64 * 1024, 1);
      let sent = 0;
      const push = () => { if (res.destroyed || sent > 200) return res.end(); sent++; res.write(chunk, () => setImmediate(push)); };
      push();
      return;
    }
  });
});
afterAll(async () => { await server.close(); });

const files = () => slackFiles({ botToken: 'xoxb-secret', apiUrl: `${server.url}/api/` });
const ref = (path: string, bytes?: number) => ({ id: 'F1', name: 'a.bin', url: `${server.url}${path}`, ...(bytes !== undefined ? { bytes } : {}) });

describe('Slack file downloads', () => {
  it('fetch with the bot token and return the bytes', async () => {
    expect(Buffer.from(await files().download(ref('/ok'), 1000)).toString()).toBe('hello file');
    expect(seen.at(-1)).toEqual({ path: '/ok', auth: 'Bearer xoxb-secret' });
  });

  it('never send the token to another host', async () => {
    const before = seen.length;
    await expect(files().download({ id: 'F1', name: 'a.bin', url: 'http://127.0.0.2:9/x' }, 1000)).rejects.toBeInstanceOf(FileDownloadFailed);
    expect(seen.length).toBe(before);
  });

  it('abandon a body past the limit, and refuse a declared size past it before downloading', async () => {
    await expect(files().download(ref('/endless'), 1024 * 1024)).rejects.toBeInstanceOf(FileTooLarge);
    await expect(files().download(ref('/ok'), 5)).rejects.toBeInstanceOf(FileTooLarge);
  });

  it('turn a refusal and the sign-in page into FileDownloadFailed', async () => {
    await expect(files().download(ref('/gone'), 1000)).rejects.toThrow(/a\.bin was skipped: it could not be downloaded \(Slack answered 404\)/);
    await expect(files().download(ref('/login'), 1000)).rejects.toThrow(/sign-in page/);
  });
});
