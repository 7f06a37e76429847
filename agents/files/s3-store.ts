// The FileStore on any S3-compatible service (AWS S3, MinIO, ...) with @aws-sdk/client-s3: path-style addressing,
// content-addressed keys (store.ts objectKey), the content's SHA-256 sent with every upload so the service checks it
// too. Invariants: an object that exists is not uploaded again (HEAD first); a read verifies the hash; SDK retries are
// the SDK's standard ones (uploads are idempotent: same key, same bytes).
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, NoSuchKey, NotFound, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { type FileBytesCodec, type FileStore, type StoredObject, StoredFileCorrupt, objectKey, sha256Hex } from './store';

export interface S3FileStoreOptions {
  bucket: string;
  /** Service URL for S3-compatible stores (MinIO: http://minio:9000); unset for AWS. */
  endpoint?: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Key prefix inside the bucket (default none). */
  prefix?: string;
  /** Encrypts the bytes at rest; absent: stored as they are. */
  codec?: FileBytesCodec;
}

export class S3FileStore implements FileStore {
  readonly id: string;
  private readonly client: S3Client;

  constructor(private readonly options: S3FileStoreOptions) {
    this.id = `s3:${options.bucket}`;
    this.client = new S3Client({
      region: options.region,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      forcePathStyle: true,
      credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  private key(sha256: string): string {
    return `${this.options.prefix ?? ''}${objectKey(sha256)}`;
  }

  async put(bytes: Uint8Array, mime: string): Promise<StoredObject> {
    const sha256 = sha256Hex(bytes);
    if (await this.has(sha256)) return { sha256, bytes: bytes.length, created: false };
    const body = this.options.codec ? await this.options.codec.seal(bytes) : bytes; // the service checks what it stores
    await this.client.send(new PutObjectCommand({
      Bucket: this.options.bucket,
      Key: this.key(sha256),
      Body: body,
      ContentType: mime,
      ContentLength: body.length,
      ChecksumSHA256: Buffer.from(body === bytes ? sha256 : sha256Hex(body), 'hex').toString('base64'),
    }));
    return { sha256, bytes: bytes.length, created: true };
  }

  async get(sha256: string): Promise<Uint8Array | undefined> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: this.key(sha256) }));
      const stored = r.Body ? await r.Body.transformToByteArray() : new Uint8Array();
      const data = this.options.codec ? await this.options.codec.open(stored) : stored;
      if (sha256Hex(data) !== sha256) throw new StoredFileCorrupt(sha256);
      return data;
    } catch (e) {
      if (e instanceof NoSuchKey || (e instanceof S3ServiceException && e.$metadata.httpStatusCode === 404)) return undefined;
      throw e;
    }
  }

  async has(sha256: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: this.key(sha256) }));
      return true;
    } catch (e) {
      if (e instanceof NotFound || (e instanceof S3ServiceException && e.$metadata.httpStatusCode === 404)) return false;
      throw e;
    }
  }

  async delete(sha256: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: this.key(sha256) }));
  }

  close(): void {
    this.client.destroy();
  }
}
