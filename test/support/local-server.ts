// The common part of the local stand-ins for external HTTP services (fake-openai.ts, fake-slack.ts, fake-teams.ts, ...):
// an HTTP server on 127.0.0.1 with a free port, the request body read in full, answers as data, recordings that can be
// awaited, and a close that does not wait for connections left open. Each fake only says what its routes answer.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

interface Received {
  method: string;
  /** The request target as sent (path and query, not decoded). */
  path: string;
  url: URL;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The body as bytes (binary uploads). */
  bytes: Buffer;
  /** The request itself, its body already read (for handlers that hand it to a library). */
  raw: http.IncomingMessage;
}

/** An answer: `json` is sent as application/json, `text` as is; no body when neither is given. */
interface Answer {
  status?: number;
  headers?: Record<string, string>;
  json?: unknown;
  text?: string;
}

/** Returns the answer, or nothing when it wrote the response itself (nothing written at all: 404). */
export type Handler = (req: Received, res: http.ServerResponse) => Answer | void | Promise<Answer | void>;

export interface LocalServer {
  /** http://127.0.0.1:<port>, no trailing slash. */
  url: string;
  close(): Promise<void>;
}

export async function startLocalServer(handler: Handler): Promise<LocalServer> {
  const server = http.createServer(async (raw, res) => {
    let answer: Answer | void;
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of raw) chunks.push(chunk as Buffer);
      const path = raw.url ?? '/';
      const bytes = Buffer.concat(chunks);
      answer = await handler({ method: raw.method ?? 'GET', path, url: new URL(path, 'http://127.0.0.1'), headers: raw.headers, body: bytes.toString(), bytes, raw }, res);
    } catch (e) {
      answer = { status: 500, json: { error: { message: `fake server error: ${e instanceof Error ? e.stack : String(e)}` } } };
    }
    if (res.destroyed || res.writableEnded) return; // the client gave up, or the handler answered itself
    if (!answer && res.headersSent) return;
    send(res, answer ?? { status: 404, json: { error: 'not_found' } });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

function send(res: http.ServerResponse, a: Answer): void {
  const headers = { ...(a.json !== undefined ? { 'content-type': 'application/json' } : {}), ...a.headers };
  res.writeHead(a.status ?? 200, headers);
  res.end(a.json !== undefined ? JSON.stringify(a.json) : a.text);
}

/** What a fake records, in arrival order; `nth` resolves when the n-th item (1-based) has been recorded. */
export interface Recording<T> {
  items: T[];
  add(item: T): T;
  nth(n: number): Promise<T>;
}

export function recording<T>(): Recording<T> {
  const items: T[] = [];
  const waiters: { n: number; resolve: (item: T) => void }[] = [];
  return {
    items,
    add: (item) => {
      items.push(item);
      for (const w of waiters.filter((w) => w.n <= items.length)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(items[w.n - 1]!);
      }
      return item;
    },
    nth: (n) => (items.length >= n ? Promise.resolve(items[n - 1]!) : new Promise((resolve) => waiters.push({ n, resolve }))),
  };
}
