// Calls tools of external MCP servers named in a role file (streamable HTTP or stdio), within the operator's policy:
// a stdio server is spawned only when its exact command line is on MCP_STDIO_COMMANDS, and an HTTP server is reached
// only at a host on MCP_HTTP_ALLOW, never at a private, loopback or link-local address the operator did not list
// (checked on every address the name resolves to, and the connection goes to the address that was checked).
import { lookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { Readable } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { RolecallError } from '../errors';
import type { Role } from '../role-schema';

type ServerSpec = Role['tools']['mcp_servers'][number];

/** What the operator allows role files to reach (MCP_STDIO_COMMANDS, MCP_HTTP_ALLOW). */
export interface ExternalMcpPolicy {
  /** Exact command lines (command, then each argument) a stdio server may be started with. */
  stdioCommands: string[][];
  /** Entries of MCP_HTTP_ALLOW: `host`, `*.domain`, an IP address or CIDR network, each optionally with `:port`. */
  httpAllow: string[];
}

/** Nothing external: the policy when the operator configured none. */
export const NO_EXTERNAL_MCP: ExternalMcpPolicy = { stdioCommands: [], httpAllow: [] };

/** An external MCP server that the policy does not allow: refused before any process or connection is made. */
export class ExternalMcpRefused extends RolecallError {}

// ---------------------------------------------------------------------------------------------------------------------
// The allow-lists

/** MCP_STDIO_COMMANDS: comma-separated command lines; words separated by spaces. */
export function parseStdioCommands(value: string | undefined): string[][] {
  return (value ?? '').split(',').map((c) => c.trim().split(/\s+/).filter(Boolean)).filter((c) => c.length > 0);
}

/** MCP_HTTP_ALLOW: comma-separated entries. */
export function parseHttpAllow(value: string | undefined): string[] {
  return (value ?? '').split(',').map((e) => e.trim().toLowerCase()).filter(Boolean);
}

type AllowEntry =
  | { kind: 'name'; name: string; port?: number }
  | { kind: 'suffix'; suffix: string; port?: number }
  | { kind: 'net'; list: BlockList; port?: number };

/** Parses one MCP_HTTP_ALLOW entry; a string is the problem with it. */
export function parseAllowEntry(raw: string): AllowEntry | string {
  let host = raw.trim().toLowerCase();
  let port: number | undefined;
  const bracketed = /^\[([0-9a-f:.]+)\](?::(\d+))?(\/\d+)?$/.exec(host);
  if (bracketed) {
    host = bracketed[1]! + (bracketed[3] ?? '');
    port = bracketed[2] ? Number(bracketed[2]) : undefined;
  } else if ((host.match(/:/g) ?? []).length === 1) {
    const [h, p] = host.split(':');
    if (!/^\d{1,5}$/.test(p!)) return `"${raw}": the port must be a number`;
    host = h!;
    port = Number(p);
  }
  if (port !== undefined && (port < 1 || port > 65535)) return `"${raw}": the port must be 1-65535`;
  const [addr, bits, ...extra] = host.split('/');
  const family = isIP(addr!);
  if (family) {
    if (extra.length) return `"${raw}": not an address or network`;
    const type = family === 4 ? 'ipv4' : 'ipv6';
    const prefix = bits === undefined ? (family === 4 ? 32 : 128) : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
    if (!(prefix >= 0 && prefix <= (family === 4 ? 32 : 128))) return `"${raw}": the network prefix must be 0-${family === 4 ? 32 : 128}`;
    const list = new BlockList();
    list.addSubnet(addr!, prefix, type);
    return { kind: 'net', list, port };
  }
  if (bits !== undefined) return `"${raw}": a network needs an IP address`;
  const label = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
  if (host.startsWith('*.')) {
    const suffix = host.slice(2);
    if (!suffix.includes('.') || !suffix.split('.').every((l) => label.test(l))) return `"${raw}": "*." must be followed by a domain with at least two labels`;
    return { kind: 'suffix', suffix, port };
  }
  if (!host.split('.').every((l) => label.test(l))) return `"${raw}": not a host name, address or network`;
  return { kind: 'name', name: host, port };
}

const entryCache = new Map<string, AllowEntry | string>();
function allowEntries(policy: ExternalMcpPolicy): AllowEntry[] {
  return policy.httpAllow.map((raw) => {
    let e = entryCache.get(raw);
    if (e === undefined) {
      e = parseAllowEntry(raw);
      if (entryCache.size > 1000) entryCache.clear();
      entryCache.set(raw, e);
    }
    return e;
  }).filter((e): e is AllowEntry => typeof e !== 'string');
}

const bare = (hostname: string) => hostname.replace(/^\[|\]$/g, '');
const defaultPort = (url: URL) => (url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80);
const portOk = (e: AllowEntry, url: URL) => e.port === undefined || e.port === defaultPort(url);
const typeOf = (address: string) => (isIP(address) === 6 ? 'ipv6' : 'ipv4');

function hostAllowed(url: URL, policy: ExternalMcpPolicy): boolean {
  const host = bare(url.hostname);
  const ip = isIP(host);
  return allowEntries(policy).some((e) => portOk(e, url) && (
    e.kind === 'net' ? ip > 0 && e.list.check(host, typeOf(host))
      : !ip && (e.kind === 'name' ? host === e.name : host.endsWith(`.${e.suffix}`))
  ));
}

/** Addresses that are reachable only inside a network (or not meant to be reached at all): refused unless listed. */
const SPECIAL: [string, string, number, 'ipv4' | 'ipv6'][] = [
  ['unspecified', '0.0.0.0', 8, 'ipv4'], ['private', '10.0.0.0', 8, 'ipv4'], ['shared (CGNAT)', '100.64.0.0', 10, 'ipv4'],
  ['loopback', '127.0.0.0', 8, 'ipv4'], ['link-local', '169.254.0.0', 16, 'ipv4'], ['private', '172.16.0.0', 12, 'ipv4'],
  ['reserved', '192.0.0.0', 24, 'ipv4'], ['documentation', '192.0.2.0', 24, 'ipv4'], ['reserved', '192.88.99.0', 24, 'ipv4'],
  ['private', '192.168.0.0', 16, 'ipv4'], ['benchmarking', '198.18.0.0', 15, 'ipv4'], ['documentation', '198.51.100.0', 24, 'ipv4'],
  ['documentation', '203.0.113.0', 24, 'ipv4'], ['multicast', '224.0.0.0', 4, 'ipv4'], ['reserved', '240.0.0.0', 4, 'ipv4'],
  // IPv6. IPv4-mapped addresses (::ffff:a.b.c.d) are checked as the IPv4 address they stand for, below.
  ['unspecified or IPv4-compatible', '::', 96, 'ipv6'], ['IPv4-translated', '::ffff:0:0:0', 96, 'ipv6'],
  ['NAT64', '64:ff9b::', 96, 'ipv6'], ['NAT64', '64:ff9b:1::', 48, 'ipv6'], ['discard', '100::', 64, 'ipv6'],
  ['IETF reserved (incl. Teredo)', '2001::', 23, 'ipv6'], ['documentation', '2001:db8::', 32, 'ipv6'], ['6to4', '2002::', 16, 'ipv6'],
  ['unique-local (private)', 'fc00::', 7, 'ipv6'], ['link-local', 'fe80::', 10, 'ipv6'], ['site-local', 'fec0::', 10, 'ipv6'],
  ['multicast', 'ff00::', 8, 'ipv6'],
];
const SPECIAL_LISTS = SPECIAL.map(([label, net, prefix, type]) => {
  const list = new BlockList();
  list.addSubnet(net, prefix, type);
  return { label, list };
});
const LOOPBACK_V6 = new BlockList();
LOOPBACK_V6.addAddress('::1', 'ipv6');

/** The IPv4 address an IPv4-mapped IPv6 address (::ffff:a.b.c.d, in any spelling) stands for. */
function mappedIPv4(address: string): string | undefined {
  if (isIP(address) !== 6) return undefined;
  const canonical = bare(new URL(`http://[${address}]/`).hostname); // e.g. ::ffff:7f00:1
  const m = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (!m) return undefined;
  const hi = parseInt(m[1]!, 16);
  const lo = parseInt(m[2]!, 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

/** Why an address may not be reached without being listed (loopback, private, ...), or undefined for a public one. */
export function specialAddress(address: string): string | undefined {
  const v4 = mappedIPv4(address);
  const a = v4 ?? address;
  const type = typeOf(a);
  if (type === 'ipv6' && LOOPBACK_V6.check(a, 'ipv6')) return 'loopback';
  return SPECIAL_LISTS.find((s) => s.list.check(a, type))?.label;
}

function addressListed(address: string, url: URL, policy: ExternalMcpPolicy): boolean {
  const candidates = [address, mappedIPv4(address)].filter((a): a is string => !!a);
  return allowEntries(policy).some((e) => e.kind === 'net' && portOk(e, url) && candidates.some((a) => e.list.check(a, typeOf(a))));
}

/** Why a role file's external server is not allowed (checked without the network), or undefined when it is. */
export function serverProblem(spec: ServerSpec, policy: ExternalMcpPolicy): { field: 'command' | 'url'; message: string } | undefined {
  if (spec.transport === 'stdio') {
    const line = [spec.command, ...spec.args];
    if (policy.stdioCommands.some((allowed) => allowed.length === line.length && allowed.every((w, i) => w === line[i]))) return undefined;
    return { field: 'command', message: `the stdio command "${line.join(' ')}" is not allowed: stdio MCP servers may run only the exact commands the operator lists in MCP_STDIO_COMMANDS${policy.stdioCommands.length ? '' : ' (none are listed)'}` };
  }
  let url: URL;
  try {
    url = new URL(spec.url);
  } catch {
    return { field: 'url', message: 'is not a URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { field: 'url', message: `must be http: or https:, not ${url.protocol}` };
  if (!hostAllowed(url, policy)) {
    return { field: 'url', message: `the host "${url.host}" is not allowed: HTTP MCP servers must be on a host listed in MCP_HTTP_ALLOW${policy.httpAllow.length ? '' : ' (none are listed)'}` };
  }
  const host = bare(url.hostname);
  if (isIP(host)) {
    const special = specialAddress(host);
    if (special && !addressListed(host, url, policy)) return { field: 'url', message: `${host} is a ${special} address; list it in MCP_HTTP_ALLOW to allow it` };
  }
  return undefined;
}

/**
 * Resolves an HTTP server's host and checks every address it resolves to (IPv4 and IPv6): a private, loopback,
 * link-local or otherwise special address is refused unless that address (or its network) is listed in MCP_HTTP_ALLOW.
 * Returns the checked addresses; the connection is made to the first of them.
 */
export async function checkedAddresses(url: URL, policy: ExternalMcpPolicy): Promise<{ address: string; family: number }[]> {
  const problem = serverProblem({ name: 'x', transport: 'streamable_http', url: url.toString() }, policy);
  if (problem) throw new ExternalMcpRefused(`MCP server ${url.origin}: ${problem.message}`);
  const host = bare(url.hostname);
  let addresses: { address: string; family: number }[];
  if (isIP(host)) {
    addresses = [{ address: host, family: isIP(host) }];
  } else {
    try {
      addresses = await lookup(host, { all: true, verbatim: true });
    } catch (e) {
      throw new ExternalMcpRefused(`MCP server ${url.origin}: cannot resolve ${host} (${(e as Error).message})`);
    }
  }
  if (!addresses.length) throw new ExternalMcpRefused(`MCP server ${url.origin}: ${host} has no addresses`);
  for (const { address } of addresses) {
    const special = specialAddress(address);
    if (special && !addressListed(address, url, policy)) {
      throw new ExternalMcpRefused(`MCP server ${url.origin}: ${host} resolves to ${address}, a ${special} address; list that address (or its network) in MCP_HTTP_ALLOW to allow it`);
    }
  }
  return addresses;
}

/** The network check of a role's HTTP servers (for the role editor, before a file is saved). */
export async function networkProblems(role: Role, policy: ExternalMcpPolicy): Promise<string[]> {
  const problems: string[] = [];
  for (const [i, s] of role.tools.mcp_servers.entries()) {
    if (s.transport !== 'streamable_http') continue;
    try {
      await checkedAddresses(new URL(s.url), policy);
    } catch (e) {
      problems.push(`tools.mcp_servers.${i}.url: ${(e as Error).message}`);
    }
  }
  return problems;
}

/**
 * fetch for the MCP client: checks the URL of every request (the SDK may follow a same-origin redirect) and connects
 * to exactly the address that was checked, so a name that resolves differently a moment later cannot be used to reach
 * an internal address. Redirects are never followed here.
 */
export function policyFetch(policy: ExternalMcpPolicy): FetchLike {
  return async (input, init = {}) => {
    const url = new URL(String(input));
    const [pinned] = await checkedAddresses(url, policy);
    const pinnedLookup: LookupFunction = (_host, opts, cb) => {
      if ((opts as { all?: boolean }).all) (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [pinned!]);
      else cb(null, pinned!.address, pinned!.family);
    };
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((v, k) => { headers[k] = v; });
    const body = init.body == null ? undefined : typeof init.body === 'string' ? init.body : Buffer.from(await new Response(init.body).arrayBuffer());
    const lib = url.protocol === 'https:' ? https : http;
    return new Promise<Response>((resolve, reject) => {
      const req = lib.request(url, { method: init.method ?? 'GET', headers, lookup: pinnedLookup, signal: init.signal ?? undefined }, (res) => {
        const out = new Headers();
        for (const [k, v] of Object.entries(res.headers)) for (const one of Array.isArray(v) ? v : v == null ? [] : [v]) out.append(k, one);
        const status = res.statusCode ?? 500;
        const nullBody = [101, 204, 205, 304].includes(status) || init.method === 'HEAD';
        if (nullBody) res.resume();
        resolve(new Response(nullBody ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), { status, statusText: res.statusMessage, headers: out }));
      });
      req.on('error', reject);
      req.end(body);
    });
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// Clients

async function withClient<T>(spec: ServerSpec, policy: ExternalMcpPolicy, fn: (c: Client) => Promise<T>): Promise<T> {
  // Checked again here, whatever loaded the role: nothing outside the policy is spawned or connected to.
  const problem = serverProblem(spec, policy);
  if (problem) throw new ExternalMcpRefused(`MCP server "${spec.name}": ${problem.message}`);
  const client = new Client({ name: 'rolecall', version: '0.1.0' });
  const transport = spec.transport === 'stdio'
    ? new StdioClientTransport({ command: spec.command, args: spec.args }) // the SDK's default environment only (PATH, HOME, ...): no secrets
    : new StreamableHTTPClientTransport(new URL(spec.url), { fetch: policyFetch(policy) });
  await client.connect(transport);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

export async function listExternalTools(spec: ServerSpec, policy: ExternalMcpPolicy): Promise<Tool[]> {
  return withClient(spec, policy, async (c) => (await c.listTools()).tools);
}

export async function callExternalTool(spec: ServerSpec, policy: ExternalMcpPolicy, tool: string, args: Record<string, unknown>) {
  return withClient(spec, policy, (c) => c.callTool({ name: tool, arguments: args }));
}
