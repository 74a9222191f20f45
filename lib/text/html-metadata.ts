/**
 * Page metadata from <meta> tags, JSON-LD and <html lang>, read before Readability runs (Readability removes the
 * scripts that carry JSON-LD). Readability reads most of these itself; this is the fallback for pages where it finds
 * no article, and the source of the fields it does not report (the language from <meta http-equiv>/og:locale, the
 * modified date).
 */
import type { DomDocument } from './dom';

export interface PageMetadata {
  title?: string;
  author?: string;
  publishedAt?: string;
  modifiedAt?: string;
  language?: string;
  siteName?: string;
  description?: string;
}

/** Collapses whitespace (bylines often carry the page's indentation) and turns empty strings into undefined. */
export function tidy(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.replace(/\s+/g, ' ').trim();
  return text === '' ? undefined : text;
}

function metaContent(doc: DomDocument, ...keys: string[]): string | undefined {
  for (const key of keys) {
    for (const attr of ['property', 'name', 'itemprop', 'http-equiv']) {
      const el = doc.querySelector(`meta[${attr}="${key}" i]`);
      const value = tidy(el?.getAttribute('content'));
      if (value) return value;
    }
  }
  return undefined;
}

type JsonLdNode = Record<string, unknown>;

/** Every object in the page's JSON-LD blocks, @graph members included; broken blocks are skipped. */
function jsonLdNodes(doc: DomDocument): JsonLdNode[] {
  const nodes: JsonLdNode[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object') {
      nodes.push(value as JsonLdNode);
      const graph = (value as JsonLdNode)['@graph'];
      if (graph) visit(graph);
    }
  };
  for (const script of Array.from(doc.querySelectorAll('script[type="application/ld+json" i]'))) {
    try {
      // Some CMSs wrap the JSON in CDATA markers.
      visit(JSON.parse((script.textContent ?? '').replace(/^\s*<!\[CDATA\[|\]\]>\s*$/g, '')));
    } catch {
      // Not JSON: ignore this block, the others may still be fine.
    }
  }
  return nodes;
}

function personName(value: unknown): string | undefined {
  if (typeof value === 'string') return tidy(value);
  if (Array.isArray(value)) {
    const names = value.map(personName).filter((n): n is string => !!n);
    return names.length > 0 ? names.join(', ') : undefined;
  }
  if (value && typeof value === 'object') return tidy((value as JsonLdNode).name);
  return undefined;
}

const ARTICLE_TYPES = /Article|BlogPosting|NewsArticle|Report|WebPage|TechArticle|ScholarlyArticle/;

export function readPageMetadata(doc: DomDocument): PageMetadata {
  const ld = jsonLdNodes(doc);
  const types = (n: JsonLdNode): string => [n['@type']].flat().join(' ');
  const article = ld.find((n) => ARTICLE_TYPES.test(types(n))) ?? ld[0];
  const html = doc.documentElement;
  const isUrl = (s: string | undefined): boolean => !!s && /^https?:\/\//i.test(s);
  const metaAuthor = metaContent(doc, 'author', 'dc.creator', 'dcterm:creator', 'parsely-author', 'article:author');
  return {
    title:
      tidy(article?.headline) ??
      metaContent(doc, 'og:title', 'twitter:title', 'dc.title', 'title') ??
      tidy(doc.querySelector('title')?.textContent),
    author: personName(article?.author) ?? (isUrl(metaAuthor) ? undefined : metaAuthor),
    publishedAt:
      tidy(article?.datePublished) ?? metaContent(doc, 'article:published_time', 'parsely-pub-date', 'date', 'dc.date', 'pubdate'),
    modifiedAt: tidy(article?.dateModified) ?? metaContent(doc, 'article:modified_time', 'og:updated_time'),
    language:
      tidy(html?.getAttribute('lang')) ??
      tidy(html?.getAttribute('xml:lang')) ??
      metaContent(doc, 'content-language', 'og:locale', 'language'),
    siteName: metaContent(doc, 'og:site_name', 'application-name') ?? personName(article?.publisher),
    description: metaContent(doc, 'description', 'og:description', 'twitter:description'),
  };
}
