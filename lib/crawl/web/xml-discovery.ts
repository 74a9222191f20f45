/**
 * Parsing of the documents that list pages: sitemaps (urlset and sitemap index) and feeds (RSS 2.0, RSS 1.0/RDF,
 * Atom). Pure functions over XML text; fetching and recursion live in discovery.ts.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { toIsoDate } from '../dates';

export type Sitemap =
  | { kind: 'urlset'; urls: Array<{ loc: string; lastmod?: string }> }
  | { kind: 'index'; sitemaps: string[] };

export interface FeedItem {
  link: string;
  title?: string;
  author?: string;
  publishedAt?: string;
}

export class XmlFormatError extends Error {
  override name = 'XmlFormatError';
}

const ARRAY_TAGS = new Set(['url', 'sitemap', 'item', 'entry', 'link', 'author', 'creator']);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  removeNSPrefix: true,
  textNodeName: '#text',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  htmlEntities: true,
  isArray: (name) => ARRAY_TAGS.has(name),
});

function parse(xml: string, what: string): Record<string, unknown> {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new XmlFormatError(`${what} is not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`);
  return parser.parse(xml) as Record<string, unknown>;
}

export function parseSitemap(xml: string): Sitemap {
  const doc = parse(xml, 'sitemap');
  const urlset = obj(doc.urlset);
  if (urlset) {
    const urls = arr(urlset.url)
      .map((u) => ({ loc: text(obj(u)?.loc), lastmod: toIsoDate(text(obj(u)?.lastmod)) }))
      .filter((u): u is { loc: string; lastmod: string | undefined } => !!u.loc)
      .map(({ loc, lastmod }) => (lastmod ? { loc, lastmod } : { loc }));
    return { kind: 'urlset', urls };
  }
  const index = obj(doc.sitemapindex);
  if (index) {
    return { kind: 'index', sitemaps: arr(index.sitemap).map((s) => text(obj(s)?.loc)).filter((s): s is string => !!s) };
  }
  if (doc.urlset === '' || doc.sitemapindex === '') return doc.urlset === '' ? { kind: 'urlset', urls: [] } : { kind: 'index', sitemaps: [] };
  throw new XmlFormatError('sitemap has neither <urlset> nor <sitemapindex>');
}

export function parseFeed(xml: string): FeedItem[] {
  const doc = parse(xml, 'feed');
  const rss = obj(doc.rss);
  if (rss) return arr(obj(rss.channel)?.item).map(rssItem).filter(isItem);
  const rdf = obj(doc.RDF);
  if (rdf) return arr(rdf.item).map(rssItem).filter(isItem);
  const atom = obj(doc.feed);
  if (atom) {
    const feedAuthor = atomAuthor(atom.author);
    return arr(atom.entry)
      .map((e) => atomEntry(obj(e) ?? {}, feedAuthor))
      .filter(isItem);
  }
  if (doc.feed === '' || doc.rss === '') return [];
  throw new XmlFormatError('feed is neither RSS (<rss>, <rdf:RDF>) nor Atom (<feed>)');
}

function rssItem(raw: unknown): Partial<FeedItem> {
  const item = obj(raw) ?? {};
  const link = arr(item.link).map(text).find(Boolean) ?? (isPermalink(item.guid) ? text(item.guid) : undefined);
  return {
    link,
    title: text(item.title),
    // <author> is an e-mail address in RSS 2.0 ("jo@x.org (Jo Doe)"); <dc:creator> is the name most feeds use.
    author: arr(item.creator).map(text).find(Boolean) ?? rssAuthor(arr(item.author).map(text).find(Boolean)),
    publishedAt: toIsoDate(text(item.pubDate) ?? text(item.date)),
  };
}

function atomEntry(entry: Record<string, unknown>, feedAuthor: string | undefined): Partial<FeedItem> {
  const links = arr(entry.link).map((l) => obj(l) ?? {});
  const alternate = links.find((l) => (l['@_rel'] ?? 'alternate') === 'alternate') ?? links[0];
  return {
    link: text(alternate?.['@_href']),
    title: text(entry.title),
    author: atomAuthor(entry.author) ?? feedAuthor,
    publishedAt: toIsoDate(text(entry.published) ?? text(entry.updated)),
  };
}

function atomAuthor(v: unknown): string | undefined {
  const names = arr(v).map((a) => text(obj(a)?.name) ?? text(a)).filter((n): n is string => !!n);
  return names.length ? names.join(', ') : undefined;
}

function rssAuthor(v: string | undefined): string | undefined {
  if (!v) return undefined;
  const named = /\(([^)]+)\)/.exec(v);
  return named ? named[1]!.trim() : v;
}

function isPermalink(guid: unknown): boolean {
  const g = obj(guid);
  return g ? g['@_isPermaLink'] !== 'false' : typeof guid === 'string' && /^https?:\/\//.test(guid);
}

function isItem(i: Partial<FeedItem>): i is FeedItem {
  return !!i.link;
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function arr(v: unknown): unknown[] {
  return v === undefined || v === null ? [] : Array.isArray(v) ? v : [v];
}

/** Text content of a node that may be a string or an object with "#text" (when it has attributes). */
function text(v: unknown): string | undefined {
  if (Array.isArray(v)) return text(v[0]);
  const s = typeof v === 'string' || typeof v === 'number' ? String(v) : typeof obj(v)?.['#text'] === 'string' ? (obj(v)!['#text'] as string) : undefined;
  const t = s?.replace(/\s+/g, ' ').trim();
  return t ? t : undefined;
}
