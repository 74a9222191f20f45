/**
 * The fault suite's corpora.
 *
 * - A versioned web site on 127.0.0.1 serving real pages from tests/fixtures/web-pages (through the fixture site of
 *   tests/helpers/fixture-site.ts) at /a/<n>/, listed by /sitemap.xml. Version 1 has 12 articles; version 2 edits two
 *   (another real page at the same URL: a new content hash and another chunk count), deletes one and adds two, so a
 *   sync has inserts, updates, a deletion and unchanged documents. Crawled politely (perHostRps) and cleaned with
 *   Readability, so crawl and clean take long enough to be hit; small parts make every later step several activities.
 * - Small folders of Markdown notes for the load test.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { IngestInput } from '../../../lib/schemas/ingest';
import type { SourceConfigInput } from '../../../lib/schemas/sources';
import type { SyncInput } from '../../../lib/schemas/sync';
import { type FixtureSite, startFixtureSite } from '../../helpers/fixture-site';

/** Medium-sized real pages (25-210 KB of HTML): a few to a few dozen chunks each. */
const V1_PAGES = ['mozilla-2', 'herald-sun-1', 'mercurial', 'ietf-1', 'google-sre-book-1', 'dropbox-blog', 'firefox-nightly-blog', 'lemonde-1', 'toc-missing', 'webmd-2', 'blogger', 'aclu'];
/** Version 2: articles 2 and 7 now serve other pages, article 9 is gone, articles 12 and 13 are new. */
const V2_EDITS: Record<number, string> = { 2: 'keep-tabular-data', 7: 'spiceworks' };
const V2_DELETED = [9];
const V2_ADDED = ['wordpress', 'links-in-tables'];

export interface CorpusSite {
  site: FixtureSite;
  version: 1 | 2;
  setVersion(v: 1 | 2): void;
  /** The articles of the current version: URL path → fixture slug. */
  articles(): Map<string, string>;
  sitemapUrl: string;
  hitsOf(pathname: string): number;
  close(): Promise<void>;
}

export async function startCorpusSite(): Promise<CorpusSite> {
  const site = await startFixtureSite();
  const files = new Map(site.pages.map((p) => [p.slug, p.file]));
  for (const slug of [...V1_PAGES, ...Object.values(V2_EDITS), ...V2_ADDED]) if (!files.has(slug)) throw new Error(`fixture page ${slug} is missing`);
  const state = { version: 1 as 1 | 2 };
  const articles = () => {
    const m = new Map<string, string>();
    V1_PAGES.forEach((slug, i) => {
      if (state.version === 2 && V2_DELETED.includes(i)) return;
      m.set(`/a/${i}/`, state.version === 2 ? (V2_EDITS[i] ?? slug) : slug);
    });
    if (state.version === 2) V2_ADDED.forEach((slug, j) => m.set(`/a/${V1_PAGES.length + j}/`, slug));
    return m;
  };
  for (let i = 0; i < V1_PAGES.length + V2_ADDED.length; i++) {
    const pathname = `/a/${i}/`;
    site.setRoute(pathname, (_req, res) => {
      const slug = articles().get(pathname);
      if (!slug) {
        res.writeHead(404, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>Not found</title><h1>404</h1>');
        return;
      }
      const body = fs.readFileSync(files.get(slug)!);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': String(body.length) }).end(body);
    });
  }
  site.setRoute('/sitemap.xml', (_req, res) => {
    const urls = [...articles().keys()].map((p) => `  <url><loc>${site.url(p)}</loc><lastmod>2024-0${state.version}-01</lastmod></url>`);
    res
      .writeHead(200, { 'content-type': 'application/xml; charset=utf-8' })
      .end(`<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n${urls.join('\n')}\n</urlset>\n`);
  });
  return {
    site,
    get version() {
      return state.version;
    },
    setVersion: (v) => void (state.version = v),
    articles,
    sitemapUrl: site.url('/sitemap.xml'),
    hitsOf: (p) => site.hits.get(p) ?? 0,
    close: () => site.close(),
  };
}

export function webSource(c: CorpusSite): SourceConfigInput {
  return { type: 'web', id: 'site', sitemaps: [c.sitemapUrl], perHostRps: 4, perHostConcurrency: 1, maxPages: 100 };
}

/** Chunks of 240 tokens (the MiniLM tokenizer takes at most 254): about 300 points for version 1. */
export const SITE_CHUNKING = { chunkTokens: 240, overlapTokens: 32, parentTokens: 1024 };

/** Two documents per part, one part at a time: every step after the crawl is a sequence of short activities. */
export function siteIngestInput(c: CorpusSite, collection: string): IngestInput {
  return { collection, sources: [webSource(c)], chunking: SITE_CHUNKING, partSize: 2, concurrency: 1 };
}

/** One document per delta part, so the load of a sync is several activities too. */
export function siteSyncInput(c: CorpusSite, collection: string): SyncInput {
  return { collection, sources: [webSource(c)], chunking: SITE_CHUNKING, partSize: 1, concurrency: 1 };
}

const FACTS = [
  'Axolotls regrow limbs through a blastema of dedifferentiated cells',
  'The lighthouse keeper trims the wick at dusk and logs every passing ship',
  'A sourdough starter is a culture of wild yeast and lactobacilli',
  'Glaciers carve U-shaped valleys as they grind the bedrock below',
  'A violin bow is strung with horsehair rubbed with rosin',
  'Beekeepers smoke the hive entrance to calm the guard bees',
  'Hot-metal typesetting cast whole lines of type from molten lead',
  'A geostationary satellite orbits at about 35,786 kilometres',
  'Tide pools shelter anemones, limpets and hermit crabs',
  'Mercator projection preserves angles but inflates far areas',
  'Kimchi ferments as lactic acid bacteria sour the cabbage',
  'Shield volcanoes grow from fluid basaltic lava flows',
];

/**
 * A folder of `n` short notes (one paragraph each: one chunk per note whatever the words, so corpora of the same
 * size give the same counts), distinct per `tag`.
 */
export function writeNotes(dir: string, tag: string, n: number): string {
  fs.mkdirSync(dir, { recursive: true });
  for (let i = 0; i < n; i++) {
    const fact = FACTS[i % FACTS.length]!;
    fs.writeFileSync(
      path.join(dir, `note-${i}.md`),
      `# Note ${i} of ${tag}\n\n${fact}, as recorded in the ${tag} notebook. This short note about it is kept for the archive of ${tag}, entry ${i}.\n`,
    );
  }
  return dir;
}
