// Bridges a Fetch Request (Hono) to the express-like request/response objects the Agents SDK expects.
export interface SdkRequest {
  method: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
  user?: Record<string, unknown>;
}

export interface SdkResponse {
  readonly headersSent: boolean;
  readonly writableEnded: boolean;
  status(code: number): SdkResponse;
  setHeader(name: string, value: string): SdkResponse;
  send(body: unknown): SdkResponse;
  end(): SdkResponse;
}

export function sdkRequest(req: Request, body: Record<string, unknown>): SdkRequest {
  return { method: req.method, headers: Object.fromEntries(req.headers), body };
}

/** Records what the SDK answers, to turn it into a Fetch Response afterwards. */
export function recordedResponse(): { res: SdkResponse; toResponse(fallbackStatus: number): Response } {
  let status = 200;
  let body: string | undefined;
  let ended = false;
  let touched = false;
  const headers = new Headers();
  const res: SdkResponse = {
    get headersSent() { return touched; },
    get writableEnded() { return ended; },
    status(code) { status = code; touched = true; return res; },
    setHeader(name, value) { headers.set(name, value); return res; },
    send(b) { body = typeof b === 'string' ? b : JSON.stringify(b); ended = true; touched = true; return res; },
    end() { ended = true; touched = true; return res; },
  };
  return { res, toResponse: (fallback) => (touched ? new Response(body ?? null, { status, headers }) : new Response(null, { status: fallback })) };
}
