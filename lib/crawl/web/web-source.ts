/**
 * The web source: discovers pages (URLs, sitemaps, feeds) and fetches them politely, yielding one outcome per page
 * in canonical-URL order (resumable from any outcome's cursor).
 */
import { docIdFor } from '../../hash';
import type { RawDocument } from '../../schemas/documents';
import type { WebSourceConfig } from '../../schemas/sources';
import { canonicalUrl } from '../canonical-url';
import { executePlan } from '../plan';
import { decodeText, looksBinary } from '../text-decoding';
import { type CrawlOptions, type CrawlOutcome, type CrawlResult, report, type Source } from '../types';
import { defaultUserAgent } from '../user-agent';
import { discoverPages, type WebWorkItem } from './discovery';
import { extractHtmlMeta, type PageMeta } from './html-meta';
import { type FetcherDeps, HttpFetcher } from './http-fetcher';

export type WebSourceDeps = FetcherDeps;

/** Media types crawled as documents, and the contentType they are stored under. */
const DOCUMENT_TYPES: Record<string, string> = {
  'text/html': 'text/html',
  'application/xhtml+xml': 'text/html',
  'text/markdown': 'text/markdown',
  'text/x-markdown': 'text/markdown',
  'text/plain': 'text/plain',
};

/** Most pages in flight at once, over all hosts (each host still gets at most perHostConcurrency). */
const MAX_WINDOW = 32;

export class WebSource implements Source {
  readonly id: string;
  readonly partialListing?: string;

  constructor(
    readonly config: WebSourceConfig,
    private readonly deps: WebSourceDeps = {},
  ) {
    this.id = config.id;
    // A feed lists only its latest items: a page that dropped out of it is older, not gone.
    if (config.feeds?.length) this.partialListing = 'a feed lists only its latest items';
  }

  async *crawl(opts: CrawlOptions = {}): AsyncGenerator<CrawlOutcome> {
    const c = this.config;
    const fetcher = new HttpFetcher(
      {
        userAgent: c.userAgent ?? defaultUserAgent(),
        timeoutMs: c.timeoutMs,
        maxBytes: c.maxBytes,
        maxRedirects: c.maxRedirects,
        perHostConcurrency: c.perHostConcurrency,
        perHostRps: c.perHostRps,
        respectRobots: c.respectRobots,
        retry: c.retry,
      },
      this.deps,
    );
    const { items, reports } = await discoverPages(c, fetcher, opts.signal);
    const keys = new Set(items.map((i) => i.key));
    const hosts = new Set(items.map((i) => new URL(i.key).host)).size;
    yield* executePlan(
      {
        items,
        reports,
        concurrency: Math.min(MAX_WINDOW, Math.max(1, hosts) * c.perHostConcurrency),
        process: (item, signal) => this.fetchPage(fetcher, item, keys, signal),
      },
      opts,
    );
  }

  private async fetchPage(fetcher: HttpFetcher, item: WebWorkItem, keys: Set<string>, signal: AbortSignal): Promise<CrawlResult> {
    const res = await fetcher.get(item.key, { signal, accept: (mime) => mime === '' || mime in DOCUMENT_TYPES });
    if (!res.ok) return report(item.key, res.reason, res.detail, { status: res.status });

    // The page keeps the identity it was listed under (its location is its cursor); a redirect to a page that is
    // listed itself would be the same document twice.
    const location = item.key;
    const finalUrl = canonicalUrl(res.url);
    if (finalUrl !== item.key && keys.has(finalUrl)) {
      return report(item.key, 'duplicate', `redirects to ${finalUrl}, which this crawl fetches under its own URL`);
    }
    let contentType = DOCUMENT_TYPES[res.mime];
    if (!contentType) {
      // No Content-Type: look at the bytes, as a browser would.
      if (looksBinary(res.bytes)) return report(item.key, 'non_html', 'no content type, and the body is binary');
      contentType = /^\s*(<!doctype html|<html|<head|<body)/i.test(new TextDecoder().decode(res.bytes.subarray(0, 512))) ? 'text/html' : 'text/plain';
    }
    const isHtml = contentType === 'text/html';
    const decoded = decodeText(res.bytes, { headerCharset: res.charset, sniffDeclaration: isHtml });
    const meta: PageMeta = isHtml ? extractHtmlMeta(decoded.text, res.url) : {};
    const { hints } = item;
    const metadata: RawDocument['metadata'] = {
      httpStatus: res.status,
      encoding: decoded.encoding,
      discoveredVia: item.via,
      bytes: res.bytes.byteLength,
    };
    if (res.mime && res.mime !== contentType) metadata.servedContentType = res.mime;
    if (res.redirects.length) metadata.redirectedFrom = res.redirects;
    if (hints.lastmod) metadata.lastmod = hints.lastmod;
    if (meta.lang) metadata.lang = meta.lang;
    if (meta.canonical) metadata.declaredCanonical = meta.canonical;

    const doc: RawDocument = {
      docId: docIdFor(location),
      sourceId: this.id,
      sourceType: 'web',
      location,
      url: res.url,
      contentType,
      body: decoded.text,
      metadata,
    };
    // The feed's metadata first: the publisher wrote it for exactly this purpose.
    const title = hints.title ?? meta.title;
    const author = hints.author ?? meta.author;
    const publishedAt = hints.publishedAt ?? meta.publishedAt;
    if (title) doc.title = title;
    if (author) doc.author = author;
    if (publishedAt) doc.publishedAt = publishedAt;
    return { kind: 'document', doc };
  }
}
