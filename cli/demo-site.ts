/** Serves examples/site on 127.0.0.1 with a sitemap and a robots.txt, so the demo crawls a real (local) website. */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { PROJECT_ROOT } from '../lib/config';

export const DEMO_SITE_DIR = path.join(PROJECT_ROOT, 'examples', 'site');

export async function startDemoSite(): Promise<{ baseUrl: string; pages: string[]; close: () => Promise<void> }> {
  const pages = fs
    .readdirSync(DEMO_SITE_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(DEMO_SITE_DIR, d.name, 'index.html')))
    .map((d) => d.name)
    .sort();
  let baseUrl = '';
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', baseUrl);
    if (url.pathname === '/robots.txt') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`User-agent: *\nDisallow: /private/\nSitemap: ${baseUrl}/sitemap.xml\n`);
      return;
    }
    if (url.pathname === '/sitemap.xml') {
      const urls = pages.map((p) => `  <url><loc>${baseUrl}/${p}/</loc></url>`).join('\n');
      res
        .writeHead(200, { 'content-type': 'application/xml' })
        .end(`<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n${urls}\n</urlset>\n`);
      return;
    }
    const page = /^\/([^/]+)\/?$/.exec(url.pathname)?.[1];
    if (page && pages.includes(page)) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      fs.createReadStream(path.join(DEMO_SITE_DIR, page, 'index.html')).pipe(res);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { baseUrl, pages, close: () => new Promise((r) => server.close(() => r())) };
}
