/**
 * LanceDB collection aliases (LanceDB has none of its own): the registry the store uses (LanceAliases), and where
 * the aliases live: beside the tables. One small JSON document per alias, replaced in one step, so a reader sees
 * the old target or the new one, never half:
 *
 * - a local database: <uri>/_aliases/<alias>.json, written to a temp file and renamed (atomic on POSIX);
 * - a database on S3 (s3://bucket/prefix): the object <prefix>/_aliases/<alias>.json (an S3 PUT replaces an object
 *   atomically), so every worker that shares the database sees the same aliases.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { validateName } from './names';

/**
 * The aliases of one LanceDB database: an alias names a collection (never another alias), and dropping a collection
 * removes the aliases that point at it, as Qdrant does.
 */
export class LanceAliases {
  constructor(
    private readonly files: AliasFiles,
    /** Whether a table of that name exists. */
    private readonly tableExists: (name: string) => Promise<boolean>,
  ) {}

  /** Every alias with its target. */
  async list(): Promise<Array<[string, string]>> {
    const out: Array<[string, string]> = [];
    for (const alias of await this.files.names()) {
      const target = await this.resolve(alias);
      if (target) out.push([alias, target]);
    }
    return out;
  }

  async set(alias: string, collection: string): Promise<void> {
    validateName('alias', alias);
    validateName('collection', collection);
    if (!(await this.tableExists(collection))) throw new Error(`Cannot point alias "${alias}" at "${collection}": no such collection`);
    if ((await this.resolve(collection)) !== undefined) throw new Error(`Cannot point alias "${alias}" at "${collection}": that is an alias, not a collection`);
    if (await this.tableExists(alias)) throw new Error(`Cannot create alias "${alias}": a collection has that name`);
    await this.files.write(alias, JSON.stringify({ collection })); // readers see the old target or the new, never half
  }

  /** The collection an alias names, or undefined (also for a name that cannot be an alias). */
  async resolve(alias: string): Promise<string | undefined> {
    if (typeof alias !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(alias)) return undefined;
    const text = await this.files.read(alias);
    if (text === undefined) return undefined;
    // Only this class writes these files; a target that is not a string reads as no alias.
    const parsed = JSON.parse(text) as { collection?: unknown };
    return typeof parsed.collection === 'string' ? parsed.collection : undefined;
  }

  /** Removes the aliases that point at `collection`: an alias to a dropped collection would dangle. */
  async removeTargeting(collection: string): Promise<void> {
    for (const [alias, target] of await this.list()) if (target === collection) await this.files.remove(alias);
  }

  close(): void {
    this.files.close();
  }
}

export interface AliasFiles {
  names(): Promise<string[]>;
  read(alias: string): Promise<string | undefined>;
  write(alias: string, body: string): Promise<void>;
  remove(alias: string): Promise<void>;
  close(): void;
}

/** Whether a LanceDB uri is a URL (s3://, gs://, az://, memory://) rather than a local path. */
export function isRemoteUri(uri: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(uri);
}

export function aliasFilesFor(uri: string, storageOptions: Record<string, string> = {}): AliasFiles {
  if (!isRemoteUri(uri)) return new LocalAliasFiles(path.join(uri, '_aliases'));
  const url = new URL(uri);
  if (url.protocol !== 's3:') return new UnsupportedAliasFiles(uri);
  return new S3AliasFiles(url.hostname, `${url.pathname.replace(/^\/+|\/+$/g, '')}/_aliases/`.replace(/^\//, ''), storageOptions);
}

class LocalAliasFiles implements AliasFiles {
  constructor(private readonly dir: string) {}

  async names(): Promise<string[]> {
    try {
      return (await readdir(this.dir)).filter((f) => f.endsWith('.json') && !f.startsWith('.')).map((f) => f.slice(0, -'.json'.length));
    } catch {
      return [];
    }
  }

  async read(alias: string): Promise<string | undefined> {
    try {
      return await readFile(path.join(this.dir, `${alias}.json`), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async write(alias: string, body: string): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const temp = path.join(this.dir, `.${alias}.${process.pid}.${randomUUID()}.tmp`);
    await writeFile(temp, body);
    await rename(temp, path.join(this.dir, `${alias}.json`));
  }

  async remove(alias: string): Promise<void> {
    await rm(path.join(this.dir, `${alias}.json`), { force: true });
  }

  close(): void {}
}

class S3AliasFiles implements AliasFiles {
  private client?: S3Client;

  constructor(
    private readonly bucket: string,
    private readonly prefix: string,
    private readonly o: Record<string, string>,
  ) {}

  /** Made on first use and again after close(), as the store's LanceDB connection is. */
  private get s3(): S3Client {
    this.client ??= new S3Client({
      endpoint: this.o.aws_endpoint ?? this.o.endpoint,
      region: this.o.aws_region ?? this.o.region ?? 'us-east-1',
      forcePathStyle: (this.o.aws_virtual_hosted_style_request ?? 'false') !== 'true',
      credentials: this.o.aws_access_key_id ? { accessKeyId: this.o.aws_access_key_id, secretAccessKey: this.o.aws_secret_access_key ?? '' } : undefined,
    });
    return this.client;
  }

  private key(alias: string): string {
    return `${this.prefix}${alias}.json`;
  }

  async names(): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) if (o.Key?.endsWith('.json')) out.push(o.Key.slice(this.prefix.length, -'.json'.length));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async read(alias: string): Promise<string | undefined> {
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(alias) }));
      return await res.Body?.transformToString('utf8');
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchKey' || (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
      throw err;
    }
  }

  async write(alias: string, body: string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key(alias), Body: body, ContentType: 'application/json' }));
  }

  async remove(alias: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(alias) }));
  }

  close(): void {
    this.client?.destroy();
    this.client = undefined;
  }
}

class UnsupportedAliasFiles implements AliasFiles {
  constructor(private readonly uri: string) {}
  async names(): Promise<string[]> {
    return [];
  }
  async read(): Promise<string | undefined> {
    return undefined;
  }
  async write(): Promise<void> {
    throw new Error(`Collection aliases are kept on a local folder or on S3; LanceDB at ${this.uri} has neither: use LANCEDB_URI=s3://... or a path`);
  }
  async remove(): Promise<void> {}
  close(): void {}
}
