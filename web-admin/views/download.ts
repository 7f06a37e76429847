// The headers of a file download from the console (a workflow's shared files and output files, MCP files): always an
// attachment (never rendered in the console's origin), no sniffing, never cached. Invariant: the quoted filename is
// printable ASCII without quotes or backslashes; the real name goes in RFC 5987's filename*.
const asciiName = (name: string) => name.replace(/[^\x20-\x7e]|["\\]/g, '_').slice(0, 200) || 'file';

export const downloadHeaders = (name: string): Record<string, string> => ({
  'content-type': 'application/octet-stream',
  'content-disposition': `attachment; filename="${asciiName(name)}"; filename*=UTF-8''${encodeURIComponent(name)}`,
  'x-content-type-options': 'nosniff',
  'cache-control': 'private, no-store',
});
