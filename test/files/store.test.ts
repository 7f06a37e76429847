// File storage: the local directory store and the S3 store (against the local S3 stand-in, which verifies SigV4 on
// every request), both content-addressed; and ingestion into PostgreSQL, where the same file shared twice is stored
// and read once and a redelivered sharing is recorded once.
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestFile } from '../../agents/files/ingest';
import { FileParserPool } from '../../agents/files/pool';
import { S3FileStore } from '../../agents/files/s3-store';
import { LocalFileStore, StoredFileCorrupt, objectKey, sha256Hex } from '../../agents/files/store';
import { openDatabase, type Database } from '../../orchestrator/db';
import { startFakeS3, type FakeS3 } from '../support/fake-s3';
import { createTestDatabase } from '../support/test-database';
import { encryptedOfficeFile, pdf } from './samples';

const bytes = new TextEncoder().encode('id,name\n1,Ada\n');

describe('LocalFileStore', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rolecall-files-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('stores the same bytes once, under their hash, and reads them back', async () => {
    const store = new LocalFileStore({ dir });
    const a = await store.put(bytes, 'text/csv');
    const b = await store.put(bytes, 'text/csv');
    expect(a).toEqual({ sha256: sha256Hex(bytes), bytes: bytes.length, created: true });
    expect(b.created).toBe(false);
    expect(await store.has(a.sha256)).toBe(true);
    expect(Buffer.from((await store.get(a.sha256))!).toString()).toBe('id,name\n1,Ada\n');
    expect(await store.get('0'.repeat(64))).toBeUndefined();
    const files = await readdir(path.join(dir, 'sha256', a.sha256.slice(0, 2), a.sha256.slice(2, 4)));
    expect(files).toEqual([a.sha256]); // no temporary files left behind
  });

  it('refuses to hand out bytes that no longer match their hash, and keys that are not hashes', async () => {
    const store = new LocalFileStore({ dir });
    const { sha256 } = await store.put(new TextEncoder().encode('original'), 'text/plain');
    await writeFile(path.join(dir, ...objectKey(sha256).split('/')), 'tampered');
    await expect(store.get(sha256)).rejects.toBeInstanceOf(StoredFileCorrupt);
    expect(() => objectKey('../../etc/passwd')).toThrow(RangeError);
  });
});

describe('S3FileStore', () => {
  let s3: FakeS3;
  beforeAll(async () => {
    s3 = await startFakeS3({ bucket: 'rolecall-files' });
  });
  afterAll(() => s3.close());

  it('uploads once (HEAD first), with a valid SigV4 signature and SHA-256 checksum, and reads back byte for byte', async () => {
    const store = new S3FileStore({ bucket: 'rolecall-files', endpoint: s3.url, region: s3.region, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, prefix: 'prod/' });
    const binary = await pdf(['binary content survives']);
    const first = await store.put(binary, 'application/pdf');
    const second = await store.put(binary, 'application/pdf');
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    const key = `rolecall-files/prod/${objectKey(first.sha256)}`;
    expect(s3.objects.get(key)?.contentType).toBe('application/pdf');
    expect(s3.requests.map((r) => r.method)).toEqual(['HEAD', 'PUT', 'HEAD']);
    expect(s3.requests.every((r) => r.signatureValid)).toBe(true);
    expect(Buffer.from((await store.get(first.sha256))!).equals(Buffer.from(binary))).toBe(true);
    expect(await store.get('f'.repeat(64))).toBeUndefined();
    expect(await store.has('f'.repeat(64))).toBe(false);
    store.close();
  });

  it('is refused by the service with wrong credentials, and detects an altered object', async () => {
    const wrong = new S3FileStore({ bucket: 'rolecall-files', endpoint: s3.url, region: s3.region, accessKeyId: s3.accessKeyId, secretAccessKey: 'not-the-secret' });
    await expect(wrong.put(bytes, 'text/csv')).rejects.toThrow();
    expect(s3.requests.at(-1)?.signatureValid).toBe(false);
    wrong.close();
    const store = new S3FileStore({ bucket: 'rolecall-files', endpoint: s3.url, region: s3.region, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey });
    const { sha256 } = await store.put(bytes, 'text/csv');
    s3.objects.get(`rolecall-files/${objectKey(sha256)}`)!.body = Buffer.from('altered');
    await expect(store.get(sha256)).rejects.toBeInstanceOf(StoredFileCorrupt);
    store.close();
  });
});

describe('ingestFile', () => {
  let db: Database;
  let drop: () => Promise<void>;
  let dir: string;
  let pool: FileParserPool;
  beforeAll(async () => {
    const t = await createTestDatabase();
    drop = t.drop;
    db = await openDatabase({ kind: 'postgres', url: t.url, poolMax: 3 });
    dir = await mkdtemp(path.join(tmpdir(), 'rolecall-ingest-'));
    pool = new FileParserPool({ timeoutMs: 120_000, limits: { ocr: false } });
  });
  afterAll(async () => {
    await pool.close();
    await db.close();
    await drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('stores and reads a file shared twice once, and records a redelivered sharing once', async () => {
    const deps = { db: db.prisma, store: new LocalFileStore({ dir }), pool };
    const spec = await pdf(['Login must support SSO']);
    const a = await ingestFile(spec, { name: 'spec.pdf', platform: 'slack', source: 'slack:C1:1.1:F1' }, deps);
    const b = await ingestFile(spec, { name: 'spec-copy.pdf', platform: 'teams', source: 'teams:19:abc:att1' }, deps);
    const again = await ingestFile(spec, { name: 'spec.pdf', platform: 'slack', source: 'slack:C1:1.1:F1' }, deps);
    expect(a).toMatchObject({ status: 'extracted', reused: false });
    expect(a.extraction?.text).toContain('Login must support SSO');
    expect(b).toMatchObject({ status: 'extracted', reused: true, name: 'spec-copy.pdf' });
    expect(b.extraction?.structure.sections[0]?.title).toBe('Page 1');
    expect(again.shareId).toBe(a.shareId);
    expect(await db.prisma.fileBlob.count()).toBe(1);
    expect(await db.prisma.sharedFile.count()).toBe(2);
    const blob = await db.prisma.fileBlob.findFirstOrThrow();
    expect(blob).toMatchObject({ store: 'local', sha256: sha256Hex(spec), kind: 'pdf', mime: 'application/pdf', status: 'extracted' });
  });

  it('records files it cannot read as skipped, with the sentence for the thread', async () => {
    const deps = { db: db.prisma, store: new LocalFileStore({ dir }), pool, limits: { maxBytes: 64 * 1024 } };
    const locked = await ingestFile(encryptedOfficeFile(), { name: 'budget.xlsx', platform: 'slack', source: 'slack:C1:2.2:F2' }, deps);
    expect(locked).toMatchObject({ status: 'skipped', error: 'budget.xlsx was skipped: it is password-protected' });
    const big = await ingestFile(new Uint8Array(100 * 1024), { name: 'dump.bin', platform: 'mcp', source: 'mcp:run1:dump' }, deps);
    expect(big.status).toBe('skipped');
    expect(big.error).toBe('dump.bin was skipped: it is 100 KB, above the 64 KB limit');
    const row = await db.prisma.sharedFile.findUniqueOrThrow({ where: { platform_source: { platform: 'mcp', source: 'mcp:run1:dump' } } });
    expect(row).toMatchObject({ status: 'skipped', blobId: null });
    await expect(ingestFile(bytes, { name: 'x.csv', platform: 'email' as 'slack', source: 's' }, deps)).rejects.toThrow();
  });
});
