/**
 * The S3 "inbox" source: Markdown, text, HTML and JSON objects under a prefix of a bucket (MinIO or S3), one outcome
 * per object in key order. People and other services drop documents there; bucket notifications make a push sync
 * pick them up within seconds, and the nightly pull sync catches anything a notification missed.
 *
 * An object listed (or named by an event) that is gone by the time it is read is reported `not_found`: change data
 * capture reads that as a deletion, not as a failure. The bucket and prefix must be ones the worker allows
 * (TWINFLOW_ALLOW_BUCKETS, lib/security/resources.ts), else the source fails 'not_allowed' and reads nothing.
 */
import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, S3ServiceException, type S3Client } from '@aws-sdk/client-s3';
import { loadConfig } from '../config';
import { docIdFor } from '../hash';
import type { RawDocument } from '../schemas/documents';
import type { S3SourceConfig } from '../schemas/sources';
import { checkBucket, type ResourcePolicy } from '../security/resources';
import { toIsoDate } from './dates';
import { extensionOf } from './file-types';
import { type PathFilter, pathFilter } from './path-filter';
import { executePlan, type PlanItem } from './plan';
import { looksBinary } from './text-decoding';
import { applyHtmlMeta, decodeTextFile } from './text-document';
import { type CrawlOptions, type CrawlOutcome, type CrawlResult, report, type Source } from './types';

export interface S3SourceDeps {
  client: S3Client;
  /** Used when the source names no bucket: the configured artifact bucket. */
  defaultBucket: string;
  /** What this worker lets input read (default: the configuration of this process's environment). */
  resources?: ResourcePolicy;
}

/** A document's location (and so, hashed, its docId): `s3://<bucket>/<key>`, the key as stored (not URL-encoded). */
export function s3Location(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

/** The docId of an object: push syncs compute it from an event's key, also for an object that no longer exists. */
export function s3DocId(bucket: string, key: string): string {
  return docIdFor(s3Location(bucket, key));
}

interface S3Item extends PlanItem {
  objectKey: string;
  /** Relative to the prefix. */
  rel: string;
  size?: number;
}

/** Field names read from a JSON document, in order of preference. */
const JSON_TEXT_FIELDS = [
  ['markdown', 'text/markdown'],
  ['content', 'text/markdown'],
  ['body', 'text/markdown'],
  ['text', 'text/plain'],
  ['html', 'text/html'],
] as const;

export class S3Source implements Source {
  readonly id: string;
  readonly bucket: string;
  private readonly filter: PathFilter;

  constructor(
    readonly config: S3SourceConfig,
    private readonly deps: S3SourceDeps,
  ) {
    this.id = config.id;
    this.bucket = config.bucket ?? deps.defaultBucket;
    this.filter = pathFilter(config.include, config.exclude);
  }

  async *crawl(opts: CrawlOptions = {}): AsyncGenerator<CrawlOutcome> {
    const verdict = checkBucket(this.deps.resources ?? loadConfig().resources, this.bucket, this.config.prefix);
    if (!verdict.allowed) {
      // A listing failure, so a sync of a refused inbox deletes nothing (and a push's named keys are not read).
      const location = s3Location(this.bucket, this.config.prefix);
      yield { ...report(location, 'not_allowed', verdict.reason, { listing: true }), cursor: opts.resumeAfter || location };
      return;
    }
    const { items, reports } = this.config.keys ? this.fromKeys(this.config.keys) : await this.list(opts.signal);
    yield* executePlan({ items, reports, concurrency: 8, process: (item, signal) => this.read(item, signal) }, opts);
  }

  private item(objectKey: string, size?: number): S3Item | CrawlResult {
    const location = s3Location(this.bucket, objectKey);
    if (!objectKey.startsWith(this.config.prefix)) return report(location, 'excluded', `outside the source prefix ${this.config.prefix}`);
    const rel = objectKey.slice(this.config.prefix.length).replace(/^\/+/, '');
    const excluded = this.filter.excludedBy(rel);
    if (excluded) return report(location, 'excluded', `matches exclude pattern ${excluded}`);
    if (!this.filter.included(rel)) return report(location, 'excluded', 'matches no include pattern');
    return { key: location, objectKey, rel, size };
  }

  /** Push: exactly the keys events named (deduplicated); the plan sorts them. */
  private fromKeys(keys: string[]): { items: S3Item[]; reports: CrawlResult[] } {
    const items: S3Item[] = [];
    const reports: CrawlResult[] = [];
    for (const key of new Set(keys)) {
      if (key.endsWith('/')) continue; // a "folder" marker, not a document
      const it = this.item(key);
      if ('kind' in it) reports.push(it);
      else items.push(it);
    }
    return { items, reports };
  }

  private async list(signal?: AbortSignal): Promise<{ items: S3Item[]; reports: CrawlResult[] }> {
    const items: S3Item[] = [];
    const reports: CrawlResult[] = [];
    let token: string | undefined;
    do {
      signal?.throwIfAborted();
      const page = await this.deps.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.config.prefix, ContinuationToken: token }),
        { abortSignal: signal },
      );
      for (const o of page.Contents ?? []) {
        if (!o.Key || o.Key.endsWith('/')) continue;
        const it = this.item(o.Key, o.Size);
        // Unmatched objects are left out silently when listing (an inbox may hold other files); named ones are reported.
        if (!('kind' in it)) items.push(it);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return { items, reports };
  }

  private async read(item: S3Item, signal: AbortSignal): Promise<CrawlResult> {
    const { maxFileBytes } = this.config;
    if (item.size !== undefined && item.size > maxFileBytes) return report(item.key, 'too_large', `${item.size} bytes is over maxFileBytes=${maxFileBytes}`);
    let bytes: Uint8Array;
    let lastModified: Date | undefined;
    let etag: string | undefined;
    try {
      const out = await this.deps.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: item.objectKey }), { abortSignal: signal });
      if ((out.ContentLength ?? 0) > maxFileBytes) {
        out.Body?.transformToWebStream().cancel().catch(() => undefined);
        return report(item.key, 'too_large', `${out.ContentLength} bytes is over maxFileBytes=${maxFileBytes}`);
      }
      bytes = await out.Body!.transformToByteArray();
      lastModified = out.LastModified;
      etag = out.ETag;
    } catch (err) {
      if (isMissing(err)) return report(item.key, 'not_found', 'the object no longer exists');
      if (signal.aborted) throw err;
      // Anything else (network, 5xx after the SDK's retries, access denied) is a failure to read, not a deletion.
      return report(item.key, 'unreadable', err instanceof Error ? `${err.name}: ${err.message}` : String(err));
    }
    if (looksBinary(bytes)) return report(item.key, 'binary', 'contains NUL bytes');
    return this.toDocument(item, bytes, { etag, lastModified });
  }

  private toDocument(item: S3Item, bytes: Uint8Array, meta: { etag?: string; lastModified?: Date }): CrawlResult {
    const { contentType, isHtml, decoded } = decodeTextFile(item.rel, bytes);
    const doc: RawDocument = {
      docId: docIdFor(item.key),
      sourceId: this.id,
      sourceType: 's3',
      location: item.key,
      path: item.objectKey,
      contentType,
      body: decoded.text,
      metadata: {
        bucket: this.bucket,
        key: item.objectKey,
        bytes: bytes.byteLength,
        ...(meta.etag ? { etag: meta.etag.replace(/"/g, '') } : {}),
        ...(meta.lastModified ? { lastModified: meta.lastModified.toISOString() } : {}),
      },
    };
    if (isHtml) applyHtmlMeta(doc, decoded.text);
    else if (extensionOf(item.rel) === 'json') {
      const outcome = fromJsonRecord(doc);
      if (outcome) return outcome;
    }
    return { kind: 'document', doc };
  }
}

/**
 * A JSON object with a text field (markdown, content, body, text or html) is a document record: its text becomes the
 * body and title/author/url/publishedAt/tags its fields. Any other JSON stays JSON (the cleaner fences it as code).
 * Returns a report when the JSON does not parse.
 */
function fromJsonRecord(doc: RawDocument): CrawlResult | undefined {
  let value: unknown;
  try {
    value = JSON.parse(doc.body);
  } catch (err) {
    return report(doc.location, 'unsupported', `not valid JSON: ${(err as Error).message}`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  const field = JSON_TEXT_FIELDS.find(([name]) => typeof record[name] === 'string' && (record[name] as string).trim() !== '');
  if (!field) return undefined;
  const str = (name: string) => (typeof record[name] === 'string' && (record[name] as string).trim() !== '' ? (record[name] as string).trim() : undefined);
  doc.body = record[field[0]] as string;
  doc.contentType = field[1];
  const title = str('title');
  if (title) doc.title = title;
  const author = str('author');
  if (author) doc.author = author;
  const url = str('url');
  if (url) doc.url = url;
  const published = toIsoDate(record.publishedAt ?? record.published_at ?? record.date);
  if (published) doc.publishedAt = published;
  if (Array.isArray(record.tags) && record.tags.every((t) => typeof t === 'string')) doc.metadata.tags = record.tags as string[];
  return { kind: 'document', doc };
}

function isMissing(err: unknown): boolean {
  return err instanceof NoSuchKey || (err instanceof S3ServiceException && (err.name === 'NoSuchKey' || err.$metadata.httpStatusCode === 404));
}
