/**
 * Lightweight page metadata from an HTML document's head: title, author and publication date from Open Graph /
 * article meta tags, JSON-LD and <time>. Only the head is parsed (plus JSON-LD and <time> found by a scan); the Clean
 * step does the full content extraction.
 */
import { parseHTML } from 'linkedom';
import { toIsoDate } from '../dates';

export interface PageMeta {
  title?: string;
  author?: string;
  publishedAt?: string;
  /** <html lang>, when present. */
  lang?: string;
  /** <link rel="canonical">, resolved against the page URL. */
  canonical?: string;
}

export function extractHtmlMeta(html: string, pageUrl?: string): PageMeta {
  const headEnd = html.search(/<\/head\s*>|<body[\s>]/i);
  const head = headEnd >= 0 ? html.slice(0, headEnd) : html.slice(0, 200_000);
  const { document } = parseHTML(`${head}</head><body></body></html>`);

  const meta = new Map<string, string>();
  for (const el of document.querySelectorAll('meta')) {
    const key = (el.getAttribute('property') ?? el.getAttribute('name') ?? el.getAttribute('itemprop') ?? '').trim().toLowerCase();
    const content = el.getAttribute('content')?.trim();
    if (key && content && !meta.has(key)) meta.set(key, content);
  }
  const ld = jsonLdArticle(html);
  const titleTag = clean(document.querySelector('title')?.textContent);

  const title = first(meta.get('og:title'), ld.title, meta.get('twitter:title'), meta.get('dc.title'), titleTag);
  const author = first(
    ...[meta.get('author'), meta.get('article:author'), ld.author, meta.get('dc.creator'), meta.get('byl'), meta.get('parsely-author')].map(notUrl),
  );
  const publishedAt = [
    meta.get('article:published_time'),
    ld.published,
    meta.get('datepublished'),
    meta.get('date'),
    meta.get('pubdate'),
    meta.get('dc.date'),
    meta.get('dc.date.issued'),
    meta.get('parsely-pub-date'),
    meta.get('og:published_time'),
    firstTimeElement(html),
  ]
    .map(toIsoDate)
    .find((d) => d !== undefined);

  const lang = clean(/<html\b[^>]*\blang\s*=\s*["']?([A-Za-z0-9-]+)/i.exec(head)?.[1]);
  const canonicalHref = document.querySelector('link[rel="canonical"]')?.getAttribute('href')?.trim();
  let canonical: string | undefined;
  try {
    canonical = canonicalHref ? new URL(canonicalHref, pageUrl).href : undefined;
  } catch {
    canonical = undefined;
  }
  return strip({ title, author, publishedAt, lang, canonical });
}

interface LdArticle {
  title?: string;
  author?: string;
  published?: string;
}

/** The first JSON-LD node that carries a headline, author or datePublished (Article, BlogPosting, ...). */
function jsonLdArticle(html: string): LdArticle {
  const blocks = html.matchAll(/<script\b[^>]*type\s*=\s*["']?application\/ld\+json["']?[^>]*>([\s\S]*?)<\/script>/gi);
  for (const [, raw] of blocks) {
    let data: unknown;
    try {
      // Some sites wrap the JSON in CDATA or an HTML comment, left over from XHTML habits.
      const json = raw!.trim().replace(/^(?:\/\/\s*)?(?:<!\[CDATA\[|<!--)/, '').replace(/(?:\/\/\s*)?(?:\]\]>|-->)$/, '');
      data = JSON.parse(json);
    } catch {
      continue; // broken JSON-LD is common; the other sources of metadata still count
    }
    for (const node of flattenLd(data)) {
      // An article's name is its title; its headline usually is too, but some sites (Wikipedia) put a summary there.
      const articleLike = !!node.datePublished || /Article|Posting|Report/.test(String(node['@type'] ?? ''));
      const title = clean((articleLike ? str(node.name) : undefined) ?? str(node.headline));
      const author = personName(node.author ?? node.creator);
      const published = str(node.datePublished) ?? str(node.dateCreated);
      if (title || author || published) return { title, author, published };
    }
  }
  return {};
}

function flattenLd(data: unknown): Array<Record<string, unknown>> {
  if (Array.isArray(data)) return data.flatMap(flattenLd);
  if (!data || typeof data !== 'object') return [];
  const node = data as Record<string, unknown>;
  return [node, ...(node['@graph'] ? flattenLd(node['@graph']) : [])];
}

function personName(v: unknown): string | undefined {
  if (typeof v === 'string') return notUrl(clean(v));
  if (Array.isArray(v)) {
    const names = v.map(personName).filter((n): n is string => !!n);
    return names.length ? names.join(', ') : undefined;
  }
  if (v && typeof v === 'object') return notUrl(clean(str((v as Record<string, unknown>).name)));
  return undefined;
}

function firstTimeElement(html: string): string | undefined {
  return /<time\b[^>]*\bdatetime\s*=\s*["']([^"']+)["']/i.exec(html)?.[1];
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function clean(s: string | undefined | null): string | undefined {
  const t = s?.replace(/\s+/g, ' ').trim();
  return t ? t : undefined;
}

function notUrl(s: string | undefined): string | undefined {
  return s && /^https?:\/\//i.test(s) ? undefined : clean(s);
}

function first(...values: Array<string | undefined>): string | undefined {
  return values.map((v) => clean(v)).find((v) => v !== undefined);
}

function strip<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
