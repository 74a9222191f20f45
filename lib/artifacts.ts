/**
 * The artifact store: S3 (MinIO locally) holding every step's input and output, so Temporal payloads carry only
 * URIs ("claim check"). JSON Lines are streamed both ways, never held whole in memory.
 */
import { createInterface } from 'node:readline';
import { PassThrough, type Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Config } from './config';
import { sha256 } from './hash';

export interface ArtifactRef {
  uri: string;
  count: number;
  bytes?: number;
}

export interface ObjectInfo {
  key: string;
  size: number;
  etag?: string;
  lastModified?: Date;
}

export class ArtifactNotFoundError extends Error {
  override name = 'ArtifactNotFoundError';
  constructor(readonly uri: string) {
    super(`artifact not found: ${uri}`);
  }
}

/** s3://bucket/key ⇄ { bucket, key } */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!m) throw new Error(`not an s3:// URI: ${JSON.stringify(uri)}`);
  return { bucket: m[1]!, key: m[2]! };
}

export function s3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

export function createS3Client(config: Config['s3']): S3Client {
  return new S3Client({
    endpoint: config.endpoint,
    region: config.region,
    forcePathStyle: config.forcePathStyle,
    credentials: config.accessKeyId ? { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey } : undefined,
    // The SDK's standard retry mode backs off on throttling and 5xx; a few more attempts ride out a MinIO restart.
    maxAttempts: 5,
  });
}

function isNotFound(err: unknown): boolean {
  return (
    err instanceof NoSuchKey ||
    err instanceof NotFound ||
    (err instanceof S3ServiceException && (err.$metadata.httpStatusCode === 404 || err.name === 'NoSuchKey'))
  );
}

export class ArtifactStore {
  readonly bucket: string;

  constructor(
    readonly s3: S3Client,
    bucket: string,
  ) {
    this.bucket = bucket;
  }

  static fromConfig(config: Config): ArtifactStore {
    return new ArtifactStore(createS3Client(config.s3), config.s3.bucket);
  }

  uri(key: string): string {
    return s3Uri(this.bucket, key);
  }

  /** Accepts a key or an s3:// URI of this bucket. */
  keyOf(uriOrKey: string): string {
    if (!uriOrKey.startsWith('s3://')) return uriOrKey;
    const { bucket, key } = parseS3Uri(uriOrKey);
    if (bucket !== this.bucket) throw new Error(`artifact ${uriOrKey} is not in bucket ${this.bucket}`);
    return key;
  }

  async ensureBucket(): Promise<void> {
    try {
      await this.s3.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      if (!isNotFound(err) && !(err instanceof S3ServiceException && err.name === 'NotFound')) throw err;
      try {
        await this.s3.send(new CreateBucketCommand({ Bucket: this.bucket }));
      } catch (createErr) {
        // Another process created it between our HEAD and CREATE: that is what we wanted.
        if (!(createErr instanceof S3ServiceException && /BucketAlready(OwnedByYou|Exists)/.test(createErr.name))) throw createErr;
      }
    }
  }

  async putBytes(key: string, body: Uint8Array | string, contentType = 'application/octet-stream'): Promise<ArtifactRef> {
    const k = this.keyOf(key);
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: k, Body: bytes, ContentType: contentType }));
    return { uri: this.uri(k), count: 1, bytes: bytes.byteLength };
  }

  async getBytes(uriOrKey: string): Promise<Buffer> {
    const k = this.keyOf(uriOrKey);
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: k }));
      return Buffer.from(await out.Body!.transformToByteArray());
    } catch (err) {
      if (isNotFound(err)) throw new ArtifactNotFoundError(this.uri(k));
      throw err;
    }
  }

  async getText(uriOrKey: string): Promise<string> {
    return (await this.getBytes(uriOrKey)).toString('utf8');
  }

  async putJson(key: string, value: unknown): Promise<ArtifactRef> {
    return this.putBytes(key, JSON.stringify(value, null, 2), 'application/json');
  }

  async getJson<T = unknown>(uriOrKey: string): Promise<T> {
    return JSON.parse(await this.getText(uriOrKey)) as T;
  }

  /** Like getJson, but undefined when the object does not exist. */
  async getJsonIfExists<T = unknown>(uriOrKey: string): Promise<T | undefined> {
    try {
      return await this.getJson<T>(uriOrKey);
    } catch (err) {
      if (err instanceof ArtifactNotFoundError) return undefined;
      throw err;
    }
  }

  /** Stores content under a key derived from its hash (`<prefix>/<sha256>`); writing it twice is a no-op in effect. */
  async putContentAddressed(prefix: string, body: Uint8Array | string, contentType?: string): Promise<ArtifactRef & { hash: string }> {
    const hash = sha256(body);
    const ref = await this.putBytes(`${prefix.replace(/\/$/, '')}/${hash}`, body, contentType);
    return { ...ref, hash };
  }

  /**
   * Streams records as JSON Lines to one object (multipart upload), so a large artifact never sits whole in memory.
   * Returns the number of records written.
   */
  async putJsonl(key: string, records: AsyncIterable<unknown> | Iterable<unknown>): Promise<ArtifactRef> {
    const k = this.keyOf(key);
    const body = new PassThrough();
    const upload = new Upload({
      client: this.s3,
      params: { Bucket: this.bucket, Key: k, Body: body, ContentType: 'application/x-ndjson' },
      queueSize: 2,
      partSize: 8 * 1024 * 1024,
    });
    const done = upload.done();
    let count = 0;
    let bytes = 0;
    try {
      for await (const record of records as AsyncIterable<unknown>) {
        const line = `${JSON.stringify(record)}\n`;
        count += 1;
        bytes += Buffer.byteLength(line);
        if (!body.write(line)) await new Promise<void>((resolve) => body.once('drain', resolve));
      }
      body.end();
    } catch (err) {
      body.destroy(err as Error);
      await upload.abort().catch(() => undefined);
      await done.catch(() => undefined);
      throw err;
    }
    await done;
    return { uri: this.uri(k), count, bytes };
  }

  /** Reads a JSON Lines object record by record. */
  async *readJsonl<T = unknown>(uriOrKey: string): AsyncGenerator<T> {
    const k = this.keyOf(uriOrKey);
    let body: Readable;
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: k }));
      body = out.Body as Readable;
    } catch (err) {
      if (isNotFound(err)) throw new ArtifactNotFoundError(this.uri(k));
      throw err;
    }
    const lines = createInterface({ input: body, crlfDelay: Infinity });
    let n = 0;
    for await (const line of lines) {
      n += 1;
      if (line.trim() === '') continue;
      try {
        yield JSON.parse(line) as T;
      } catch {
        throw new Error(`${this.uri(k)} line ${n}: not valid JSON`);
      }
    }
  }

  async readAllJsonl<T = unknown>(uriOrKey: string): Promise<T[]> {
    const out: T[] = [];
    for await (const r of this.readJsonl<T>(uriOrKey)) out.push(r);
    return out;
  }

  async exists(uriOrKey: string): Promise<boolean> {
    try {
      await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.keyOf(uriOrKey) }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  async head(uriOrKey: string): Promise<ObjectInfo | undefined> {
    const key = this.keyOf(uriOrKey);
    try {
      const h = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { key, size: h.ContentLength ?? 0, etag: h.ETag, lastModified: h.LastModified };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Lists every object under a prefix (all pages). */
  async *list(prefix: string): AsyncGenerator<ObjectInfo> {
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.keyOf(prefix), ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) {
        if (o.Key) yield { key: o.Key, size: o.Size ?? 0, etag: o.ETag, lastModified: o.LastModified };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async deletePrefix(prefix: string): Promise<number> {
    let batch: string[] = [];
    let deleted = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      await this.s3.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })) } }));
      deleted += batch.length;
      batch = [];
    };
    for await (const o of this.list(prefix)) {
      batch.push(o.key);
      if (batch.length === 1000) await flush();
    }
    await flush();
    return deleted;
  }

  async delete(uriOrKey: string): Promise<void> {
    await this.s3.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: [{ Key: this.keyOf(uriOrKey) }] } }));
  }
}
