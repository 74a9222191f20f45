/**
 * A real web site on 127.0.0.1 for crawler and ingestion tests and benchmarks, served from the real-world pages in
 * tests/fixtures/web-pages (one folder per page: source.html + expected-metadata.json).
 *
 *   const site = await startFixtureSite();
 *   site.url('/aclu/')                  // http://127.0.0.1:<port>/aclu/
 *   site.setRoute('/flaky', (req, res) => { res.statusCode = 500; res.end(); });
 *   ... crawl ...
 *   site.hits.get('/aclu/')             // how many requests that path got
 *   await site.close();
 *
 * Routes (a route set with setRoute wins over all of them):
 *   /<slug>/       the page's source.html as text/html; charset=utf-8 (/<slug> redirects there with a 301)
 *   /sitemap.xml   every page, with <lastmod> (the page's published time, else 2024-01-01)
 *   /feed.xml      RSS 2.0 of the first `feedSize` pages (by slug): title, dc:creator and pubDate from the metadata
 *   /robots.txt    "User-agent: *" / "Disallow: /private/" / Sitemap line
 *   /private/...   a small HTML page (so a crawler that ignored robots.txt would be seen fetching it)
 *   anything else  404
 */
import fs from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { PROJECT_ROOT } from '../../lib/config';

export const FIXTURE_PAGES_DIR = path.resolve(PROJECT_ROOT, 'tests/fixtures/web-pages');

export interface FixturePage {
  /** Folder name, e.g. "aclu". */
  slug: string;
  /** "/<slug>/" */
  path: string;
  /** From expected-metadata.json (absent when empty there). */
  title?: string;
  author?: string;
  publishedTime?: string;
  /** publishedTime as ISO 8601 UTC (a time without a zone read as UTC). */
  publishedAt?: string;
  /** Absolute path of source.html. */
  file: string;
}

/** May return a promise; its value is ignored (so `(q, res) => res.writeHead(200).end(body)` works). */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

export interface FixtureSiteOptions {
  /** Default: tests/fixtures/web-pages. */
  fixturesDir?: string;
  /** Serve only these slugs, or only the first n (by slug). Default: all. */
  pages?: string[] | number;
  /** Items in /feed.xml. Default 10. */
  feedSize?: number;
  /** Listen on this port (a stable origin: the same URLs, so the same document ids, across runs). Default: any free one. */
  port?: number;
}

export interface FixtureSite {
  /** "http://127.0.0.1:<port>" (no trailing slash). */
  baseUrl: string;
  /** The pages served, sorted by slug. */
  pages: FixturePage[];
  /** baseUrl + path. */
  url(pathname: string): string;
  /** Requests per pathname (query strings ignored). */
  hits: Map<string, number>;
  /** Every request in arrival order; `at` is performance.now() in ms. */
  requests: Array<{ path: string; at: number; userAgent?: string }>;
  /** Serve `pathname` (exact match, without query) with a handler of your own; replaces any route there. */
  setRoute(pathname: string, handler: RouteHandler): void;
  /** Serve every path with this handler (before setRoute's), or stop doing so with undefined: a whole site's bad night. */
  setFallback(handler: RouteHandler | undefined): void;
  /** Removes every route set with setRoute and the fallback: the site serves its fixtures again. */
  clearRoutes(): void;
  close(): Promise<void>;
}

export async function startFixtureSite(opts: FixtureSiteOptions = {}): Promise<FixtureSite> {
  const dir = opts.fixturesDir ?? FIXTURE_PAGES_DIR;
  if (!fs.existsSync(dir)) {
    throw new Error(`fixture pages not found at ${dir}: the repository's fixture pages (tests/fixtures/web-pages) are missing`);
  }
  let pages = loadPages(dir);
  if (Array.isArray(opts.pages)) {
    const wanted = new Set(opts.pages);
    const missing = opts.pages.filter((s) => !pages.some((p) => p.slug === s));
    if (missing.length) throw new Error(`no fixture page named ${missing.join(', ')} in ${dir}`);
    pages = pages.filter((p) => wanted.has(p.slug));
  } else if (typeof opts.pages === 'number') {
    pages = pages.slice(0, opts.pages);
  }
  const feedSize = opts.feedSize ?? 10;
  const bySlug = new Map(pages.map((p) => [p.slug, p]));
  const routes = new Map<string, RouteHandler>();
  let fallback: RouteHandler | undefined;
  const hits = new Map<string, number>();
  const requests: FixtureSite['requests'] = [];
  let baseUrl = '';

  const server = http.createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    hits.set(pathname, (hits.get(pathname) ?? 0) + 1);
    requests.push({ path: pathname, at: performance.now(), userAgent: req.headers['user-agent'] });
    const custom = fallback ?? routes.get(pathname);
    if (custom) {
      Promise.resolve(custom(req, res)).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`route handler failed: ${String(err)}`);
      });
      return;
    }
    const send = (status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': type, 'content-length': String(Buffer.byteLength(body)), ...headers });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (pathname === '/robots.txt') return send(200, 'text/plain; charset=utf-8', `User-agent: *\nDisallow: /private/\n\nSitemap: ${baseUrl}/sitemap.xml\n`);
    if (pathname === '/sitemap.xml') return send(200, 'application/xml; charset=utf-8', sitemapXml(baseUrl, pages));
    if (pathname === '/feed.xml') return send(200, 'application/rss+xml; charset=utf-8', rssXml(baseUrl, pages.slice(0, feedSize)));
    if (pathname.startsWith('/private/')) return send(200, 'text/html; charset=utf-8', '<!doctype html><title>Private</title><p>Robots may not read this.</p>');
    const m = /^\/([^/]+)(\/?)$/.exec(pathname);
    const page = m ? bySlug.get(decodeURIComponent(m[1]!)) : undefined;
    if (page && !m![2]) return send(301, 'text/plain', `moved to ${page.path}`, { location: page.path });
    if (page) return send(200, 'text/html; charset=utf-8', fs.readFileSync(page.file));
    return send(404, 'text/html; charset=utf-8', '<!doctype html><title>Not found</title><h1>404</h1>');
  });
  // Tests abort responses mid-body on purpose; a reset socket is not an error of the site.
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', resolve);
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    baseUrl,
    pages,
    url: (p) => `${baseUrl}${p.startsWith('/') ? '' : '/'}${p}`,
    hits,
    requests,
    setRoute: (p, handler) => void routes.set(p, handler),
    setFallback: (handler) => void (fallback = handler),
    clearRoutes: () => {
      routes.clear();
      fallback = undefined;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function loadPages(dir: string): FixturePage[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(dir, e.name, 'source.html')))
    .map((e) => e.name)
    .sort()
    .map((slug) => {
      const metaFile = path.join(dir, slug, 'expected-metadata.json');
      const meta = fs.existsSync(metaFile) ? (JSON.parse(fs.readFileSync(metaFile, 'utf8')) as Record<string, unknown>) : {};
      const text = (v: unknown) => (typeof v === 'string' && v.trim() ? v.replace(/\s+/g, ' ').trim() : undefined);
      const page: FixturePage = { slug, path: `/${encodeURIComponent(slug)}/`, file: path.join(dir, slug, 'source.html') };
      const title = text(meta.title);
      const author = text(meta.byline);
      const published = text(meta.publishedTime);
      if (title) page.title = title;
      if (author) page.author = author;
      const ms = published ? Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(published) || !published.includes('T') ? published : `${published}Z`) : NaN;
      if (published && !Number.isNaN(ms)) {
        page.publishedTime = published;
        page.publishedAt = new Date(ms).toISOString();
      }
      return page;
    });
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function sitemapXml(base: string, pages: FixturePage[]): string {
  const urls = pages.map((p) => {
    const lastmod = p.publishedAt ? p.publishedAt.slice(0, 10) : '2024-01-01';
    return `  <url><loc>${xmlEscape(base + p.path)}</loc><lastmod>${lastmod}</lastmod></url>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n${urls.join('\n')}\n</urlset>\n`;
}

function rssXml(base: string, pages: FixturePage[]): string {
  const items = pages.map((p) =>
    [
      '    <item>',
      `      <title>${xmlEscape(p.title ?? p.slug)}</title>`,
      `      <link>${xmlEscape(base + p.path)}</link>`,
      `      <guid isPermaLink="true">${xmlEscape(base + p.path)}</guid>`,
      p.author ? `      <dc:creator>${xmlEscape(p.author)}</dc:creator>` : '',
      p.publishedAt ? `      <pubDate>${new Date(p.publishedAt).toUTCString()}</pubDate>` : '',
      '    </item>',
    ]
      .filter(Boolean)
      .join('\n'),
  );
  return `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel>
    <title>twinflow fixture site</title>
    <link>${xmlEscape(base)}/</link>
    <description>Real-world pages served for tests</description>
${items.join('\n')}
  </channel>
</rss>
`;
}
