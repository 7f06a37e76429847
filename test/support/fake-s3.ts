// A local S3-compatible object store (path-style PUT/GET/HEAD Object) that checks AWS Signature Version 4 on every
// request by recomputing it from the request as received (its own implementation, not the SDK's signer), checks the
// payload hash and x-amz-checksum-sha256 against the body, and answers in S3's wire format (XML errors, ETag,
// Content-Type). Used by the S3 file store test; one fake for S3.
import { createHash, createHmac } from 'node:crypto';
import { type Handler, recording, startLocalServer } from './local-server';

export interface S3Object {
  body: Buffer;
  contentType: string;
}

export interface S3Request {
  method: string;
  key: string;
  signatureValid: boolean;
}

export interface FakeS3 {
  url: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** bucket/key → object */
  objects: Map<string, S3Object>;
  requests: S3Request[];
  close(): Promise<void>;
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
const xmlError = (status: number, code: string, message: string): Exclude<ReturnType<Handler>, Promise<unknown>> => ({ status, headers: { 'content-type': 'application/xml' }, text: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>` });

export async function startFakeS3(options: { bucket: string; accessKeyId?: string; secretAccessKey?: string; region?: string }): Promise<FakeS3> {
  const accessKeyId = options.accessKeyId ?? 'AKIDFAKES3TEST';
  const secretAccessKey = options.secretAccessKey ?? 'fake-s3-secret-key-0123456789';
  const region = options.region ?? 'us-east-1';
  const objects = new Map<string, S3Object>();
  const requests = recording<S3Request>();

  const handler: Handler = (req, res) => {
    const [pathOnly = '/', query = ''] = req.path.split('?');
    const segments = pathOnly.split('/').slice(1);
    const bucket = decodeURIComponent(segments[0] ?? '');
    const key = segments.slice(1).map(decodeURIComponent).join('/');
    const valid = verifySignature(req.method, pathOnly, query, req.headers, req.bytes, { accessKeyId, secretAccessKey, region });
    requests.add({ method: req.method, key, signatureValid: valid === true });
    if (valid !== true) return xmlError(403, 'SignatureDoesNotMatch', valid);
    if (bucket !== options.bucket) return xmlError(404, 'NoSuchBucket', 'The specified bucket does not exist');
    const id = `${bucket}/${key}`;
    if (req.method === 'PUT') {
      const want = req.headers['x-amz-checksum-sha256'];
      if (typeof want === 'string' && createHash('sha256').update(req.bytes).digest('base64') !== want) return xmlError(400, 'BadDigest', 'The SHA256 you specified did not match the calculated checksum.');
      objects.set(id, { body: Buffer.from(req.bytes), contentType: String(req.headers['content-type'] ?? 'binary/octet-stream') });
      return { status: 200, headers: { etag: `"${createHash('md5').update(req.bytes).digest('hex')}"` } };
    }
    const obj = objects.get(id);
    if (req.method === 'HEAD') return obj ? { status: 200, headers: { 'content-length': String(obj.body.length), 'content-type': obj.contentType, etag: '"x"' } } : { status: 404 };
    if (req.method === 'GET') {
      if (!obj) return xmlError(404, 'NoSuchKey', 'The specified key does not exist.');
      res.writeHead(200, { 'content-type': obj.contentType, 'content-length': String(obj.body.length), etag: '"x"' });
      res.end(obj.body); // binary: written here, not as an Answer's text
      return;
    }
    return xmlError(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
  };
  const server = await startLocalServer(handler);

  return { url: server.url, region, accessKeyId, secretAccessKey, objects, requests: requests.items, close: server.close };
}

/** true, or why the SigV4 signature does not verify. */
function verifySignature(method: string, path: string, query: string, headers: Record<string, string | string[] | undefined>, body: Buffer, creds: { accessKeyId: string; secretAccessKey: string; region: string }): true | string {
  const auth = String(headers.authorization ?? '');
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return 'missing or malformed Authorization header';
  const [, akid, date, region, signedHeaders = '', signature] = m;
  if (akid !== creds.accessKeyId) return 'unknown access key';
  if (region !== creds.region) return 'wrong region';
  const amzDate = String(headers['x-amz-date'] ?? '');
  if (!amzDate.startsWith(date ?? '-')) return 'x-amz-date does not match the credential scope';
  const payload = String(headers['x-amz-content-sha256'] ?? '');
  if (payload !== 'UNSIGNED-PAYLOAD' && payload !== sha256(body)) return 'x-amz-content-sha256 does not match the body';
  const names = signedHeaders.split(';');
  if (!names.includes('host') || !names.includes('x-amz-date')) return 'host and x-amz-date must be signed';
  const canonicalHeaders = names.map((n) => `${n}:${String(headers[n] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const canonicalQuery = query
    .split('&')
    .filter(Boolean)
    .map((p) => p.split('=') as [string, string?])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v ?? ''}`)
    .join('&');
  const canonical = [method, path, canonicalQuery, canonicalHeaders, signedHeaders, payload].join('\n');
  const scope = `${date}/${region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${creds.secretAccessKey}`, date ?? ''), region ?? ''), 's3'), 'aws4_request');
  return createHmac('sha256', key).update(toSign).digest('hex') === signature ? true : 'signature does not match';
}
