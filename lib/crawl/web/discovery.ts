/**
 * Builds a web source's page list: its URLs, the pages listed by its sitemaps (nested indexes followed to a depth
 * limit; gzip'd sitemaps read) and the items of its feeds, deduplicated by canonical URL in discovery order, filtered
 * by include/exclude and cut at maxPages. Problems become reports (outcomes in the crawl's output), never exceptions.
 */
import { gunzipSync } from 'node:zlib';
import type { WebSourceConfig } from '../../schemas/sources';
import { tryCanonicalHttpUrl } from '../canonical-url';
import type { PlanItem } from '../plan';
import { decodeText } from '../text-decoding';
import { type CrawlResult, report } from '../types';
import { urlFilter } from '../url-patterns';
import type { HttpFetcher } from './http-fetcher';
import { parseFeed, parseSitemap, XmlFormatError } from './xml-discovery';

export interface PageHints {
  title?: string;
  author?: string;
  publishedAt?: string;
  lastmod?: string;
}

export interface WebWorkItem extends PlanItem {
  /** Canonical URL: the item's cursor, and the URL fetched. */
  key: string;
  via: 'url' | 'sitemap' | 'feed';
  hints: PageHints;
}

export interface DiscoveredPages {
  items: WebWorkItem[];
  reports: CrawlResult[];
  /** Sitemaps and feeds read. */
  listsRead: number;
}

/** The sitemap protocol's own limit for one (uncompressed) sitemap file. */
const MAX_LIST_BYTES = 50 * 1024 * 1024;
const LIST_ACCEPT = 'application/xml,text/xml,application/rss+xml,application/atom+xml,application/gzip;q=0.9,*/*;q=0.5';

export async function discoverPages(config: WebSourceConfig, fetcher: HttpFetcher, signal?: AbortSignal): Promise<DiscoveredPages> {
  const found = new Map<string, WebWorkItem>();
  const reports: CrawlResult[] = [];
  let listsRead = 0;

  const add = (raw: string, via: WebWorkItem['via'], hints: PageHints, base?: string) => {
    const key = tryCanonicalHttpUrl(raw, base);
    if (!key) {
      reports.push(report(raw || '(empty)', 'invalid_url', `not an absolute http(s) URL (listed by ${base ?? 'the source config'})`));
      return;
    }
    const known = found.get(key);
    if (known) {
      // A page both in a sitemap and a feed keeps the first place and gains the feed's metadata.
      for (const [k, v] of Object.entries(hints) as Array<[keyof PageHints, string | undefined]>) if (v && !known.hints[k]) known.hints[k] = v;
    } else {
      found.set(key, { key, via, hints: { ...hints } });
    }
  };

  /** Fetches a sitemap or feed as text, or records why it could not. */
  const readList = async (url: string, what: string): Promise<string | undefined> => {
    const res = await fetcher.get(url, { signal, maxBytes: MAX_LIST_BYTES, acceptHeader: LIST_ACCEPT });
    if (!res.ok) {
      reports.push(report(url, res.reason, `${what}: ${res.detail}`, { status: res.status, listing: true }));
      return undefined;
    }
    listsRead++;
    let bytes = res.bytes;
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
      try {
        bytes = gunzipSync(bytes, { maxOutputLength: MAX_LIST_BYTES });
      } catch (err) {
        reports.push(report(url, 'parse_error', `${what}: cannot gunzip: ${(err as Error).message}`, { listing: true }));
        return undefined;
      }
    }
    return decodeText(bytes, { headerCharset: res.charset }).text;
  };

  for (const url of config.urls ?? []) add(url, 'url', {});

  const visited = new Set<string>();
  const readSitemap = async (url: string, depth: number): Promise<void> => {
    if (visited.has(url)) return;
    visited.add(url);
    const xml = await readList(url, 'sitemap');
    if (xml === undefined) return;
    let sitemap;
    try {
      sitemap = parseSitemap(xml);
    } catch (err) {
      if (!(err instanceof XmlFormatError)) throw err;
      reports.push(report(url, 'parse_error', err.message, { listing: true }));
      return;
    }
    if (sitemap.kind === 'urlset') {
      for (const u of sitemap.urls) add(u.loc, 'sitemap', u.lastmod ? { lastmod: u.lastmod } : {}, url);
      return;
    }
    for (const child of sitemap.sitemaps) {
      const childUrl = tryCanonicalHttpUrl(child, url);
      if (!childUrl) {
        reports.push(report(child, 'invalid_url', `sitemap index ${url} lists a sitemap that is not an http(s) URL`, { listing: true }));
      } else if (depth + 1 > config.maxSitemapDepth) {
        reports.push(report(childUrl, 'limit_reached', `sitemap nested deeper than maxSitemapDepth=${config.maxSitemapDepth} (listed by ${url})`, { listing: true }));
      } else {
        await readSitemap(childUrl, depth + 1);
      }
    }
  };
  for (const url of config.sitemaps ?? []) await readSitemap(tryCanonicalHttpUrl(url) ?? url, 0);

  for (const url of config.feeds ?? []) {
    const xml = await readList(url, 'feed');
    if (xml === undefined) continue;
    try {
      for (const item of parseFeed(xml)) {
        add(item.link, 'feed', { title: item.title, author: item.author, publishedAt: item.publishedAt }, url);
      }
    } catch (err) {
      if (!(err instanceof XmlFormatError)) throw err;
      reports.push(report(url, 'parse_error', err.message, { listing: true }));
    }
  }

  const filter = urlFilter(config.include, config.exclude);
  const kept: WebWorkItem[] = [];
  for (const item of found.values()) {
    const verdict = filter(item.key);
    if (verdict.ok) kept.push(item);
    else reports.push(report(item.key, 'excluded', verdict.why));
  }
  const items = kept.slice(0, config.maxPages);
  const over = kept.length - items.length;
  if (over > 0) {
    reports.push(
      report(kept[config.maxPages]!.key, 'limit_reached', `${over} more page(s) than maxPages=${config.maxPages} were found and not crawled, from this one on`, { count: over, listing: true }),
    );
  }
  return { items, reports, listsRead };
}
