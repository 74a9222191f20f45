/**
 * A generated web site on 127.0.0.1 for the cluster rehearsal: `pages` short articles at /p/<i>/, each a few
 * paragraphs of text unique to it (one chunk each), listed by /sitemap.xml. Pages never change, so point ids (from
 * the URL) and counts are known in advance.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const WORDS = 'harbour lantern granite orchard meadow copper willow ember falcon quarry saffron tundra cobalt juniper marble nectar'.split(' ');

export function pageText(i: number): string {
  const w = (k: number) => WORDS[(i * 7 + k * 3) % WORDS.length]!;
  return [
    `Article ${i} describes the ${w(1)} near the ${w(2)}, as noted in the survey of district ${i % 97}.`,
    `Record ${i}: the ${w(3)} crew moved ${i * 13} crates of ${w(4)} before the ${w(5)} season, entry number ${i}.`,
    `The archive keeps page ${i} for the index of ${w(6)} and ${w(7)}; its checksum is ${(i * 2654435761) % 4294967296}.`,
  ].join('\n\n');
}

export interface GeneratedSite {
  url(path: string): string;
  sitemapUrl: string;
  pages: number;
  hits(): number;
  close(): Promise<void>;
}

export async function startGeneratedSite(pages: number): Promise<GeneratedSite> {
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits += 1;
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/robots.txt') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('User-agent: *\nAllow: /\n');
    if (url.pathname === '/sitemap.xml') {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const body = Array.from({ length: pages }, (_, i) => `  <url><loc>${base}/p/${i}/</loc><lastmod>2024-01-01</lastmod></url>`).join('\n');
      return void res
        .writeHead(200, { 'content-type': 'application/xml; charset=utf-8' })
        .end(`<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n${body}\n</urlset>\n`);
    }
    const m = /^\/p\/(\d+)\/$/.exec(url.pathname);
    const i = m ? Number(m[1]) : -1;
    if (i < 0 || i >= pages) return void res.writeHead(404, { 'content-type': 'text/html' }).end('<!doctype html><title>Not found</title>');
    const paragraphs = pageText(i)
      .split('\n\n')
      .map((p) => `<p>${p}</p>`)
      .join('\n');
    res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      // Zero-padded: a page titled "Article 404" is a soft 404 to the cleaner (lib/text/junk.ts), and rightly dropped.
      .end(`<!doctype html><html lang="en"><head><title>Article ${String(i).padStart(5, '0')}</title></head><body><main><article><h1>Article ${String(i).padStart(5, '0')}</h1>\n${paragraphs}\n</article></main></body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: (p) => `${base}${p}`,
    sitemapUrl: `${base}/sitemap.xml`,
    pages,
    hits: () => hits,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
