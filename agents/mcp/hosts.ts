// DNS-rebinding protection for the MCP endpoints (MCP streamable HTTP transport, "Security Warning"): the Host header
// must name one of the public hosts, and an Origin header, when a browser sends one, must be one of those hosts or an
// origin allowed explicitly. Done here rather than with the SDK transport's allowedHosts/allowedOrigins, which the SDK
// (1.32) deprecates in favour of middleware and which compare Host strings exactly.

export interface HostPolicyOptions {
  /** PUBLIC_HOSTS: `host` (any port) or `host:port` entries. Unset: the listen host, localhost, 127.0.0.1 and [::1]
   * on the port the server listens on. */
  publicHosts?: string[];
  /** MCP_ALLOWED_ORIGINS: further origins (scheme://host[:port]) of browser-based MCP clients. */
  allowedOrigins?: string[];
  /** The listen address (HOST), used for the default. */
  listenHost: string;
}

export interface HostPolicy {
  /** Called once the server listens (PORT=0 picks the port then). */
  listening(port: number): void;
  hostAllowed(host: string | undefined): boolean;
  originAllowed(origin: string | undefined): boolean;
  describe(): string;
}

interface HostEntry { hostname: string; port?: string }

const HOST_SHAPE = /^(\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)(?::(\d{1,5}))?$/i;
const ANY_ADDRESS = new Set(['0.0.0.0', '::', '[::]', '']);

/** `host`, `host:port` or `http(s)://host[:port]` into a hostname and optional port; undefined when malformed. */
export function parseHostEntry(raw: string): HostEntry | undefined {
  let text = raw.trim();
  if (/^https?:\/\//i.test(text)) {
    try {
      const u = new URL(text);
      text = u.port ? `${u.hostname}:${u.port}` : u.hostname;
    } catch {
      return undefined;
    }
  }
  const m = HOST_SHAPE.exec(text);
  if (!m) return undefined;
  return { hostname: m[1]!.toLowerCase(), ...(m[2] ? { port: String(Number(m[2])) } : {}) };
}

const normalOrigin = (o: string): string | undefined => {
  try {
    const u = new URL(o);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.origin !== 'null' ? u.origin : undefined;
  } catch {
    return undefined;
  }
};

export function createHostPolicy(opts: HostPolicyOptions): HostPolicy {
  const configured = opts.publicHosts?.map((h) => {
    const e = parseHostEntry(h);
    if (!e) throw new Error(`not a host or host:port: ${h}`);
    return e;
  });
  const origins = new Set((opts.allowedOrigins ?? []).map((o) => normalOrigin(o) ?? o));
  let entries: HostEntry[] = configured ?? [];
  const listenHost = opts.listenHost.includes(':') && !opts.listenHost.startsWith('[') ? `[${opts.listenHost}]` : opts.listenHost;
  const policy: HostPolicy = {
    listening(port) {
      if (configured) return;
      const names = new Set(['localhost', '127.0.0.1', '[::1]', ...(ANY_ADDRESS.has(listenHost) ? [] : [listenHost.toLowerCase()])]);
      entries = [...names].map((hostname) => ({ hostname, port: String(port) }));
    },
    hostAllowed(host) {
      const e = host ? parseHostEntry(host) : undefined;
      if (!e || /^https?:/i.test(host!)) return false;
      // No port in the header: the scheme's default (80 or 443).
      return entries.some((a) => a.hostname === e.hostname && (a.port === undefined || (e.port ? a.port === e.port : a.port === '80' || a.port === '443')));
    },
    originAllowed(origin) {
      if (origin === undefined) return true; // not a browser: nothing to rebind
      const o = normalOrigin(origin);
      if (!o) return false;
      return origins.has(o) || policy.hostAllowed(new URL(o).host);
    },
    describe: () => entries.map((e) => (e.port ? `${e.hostname}:${e.port}` : e.hostname)).join(', '),
  };
  return policy;
}
