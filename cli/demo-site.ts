/**
 * Serves examples/site on 127.0.0.1 with a sitemap and a robots.txt, so the demo crawls a real (local) website.
 *
 * The site listens on a fixed port (TWINFLOW_DEMO_SITE_PORT, default 8765): a web document's id is the hash of its
 * canonical URL, port included, so a fixed origin is what makes a second demo run upsert the same documents instead
 * of adding a copy of every page.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ConfigError, PROJECT_ROOT } from '../lib/config';

export const DEMO_SITE_DIR = path.join(PROJECT_ROOT, 'examples', 'site');
export const DEMO_SITE_PORT_VARIABLE = 'TWINFLOW_DEMO_SITE_PORT';
export const DEFAULT_DEMO_SITE_PORT = 8765;

export interface DemoSite {
  baseUrl: string;
  port: number;
  pages: string[];
  close: () => Promise<void>;
}

/** The demo site's port from the environment; a bad value is one line naming the variable. */
export function demoSitePort(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[DEMO_SITE_PORT_VARIABLE]?.trim();
  if (raw === undefined || raw === '') return DEFAULT_DEMO_SITE_PORT;
  const port = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError(`Invalid configuration: ${DEMO_SITE_PORT_VARIABLE}: expected a port number (1-65535), got ${JSON.stringify(env[DEMO_SITE_PORT_VARIABLE])}`);
  }
  return port;
}

/** The pages of examples/site: one folder with an index.html each. */
export function demoSitePages(dir = DEMO_SITE_DIR): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(dir, d.name, 'index.html')))
    .map((d) => d.name)
    .sort();
}

/**
 * Starts the site on `port` (default: TWINFLOW_DEMO_SITE_PORT or 8765; 0 picks a free port, for tests only: the
 * documents' ids then change from run to run). A port in use is a ConfigError naming the variable.
 */
export async function startDemoSite(opts: { port?: number; dir?: string } = {}): Promise<DemoSite> {
  const dir = opts.dir ?? DEMO_SITE_DIR;
  const pages = demoSitePages(dir);
  const requested = opts.port ?? demoSitePort();
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
      fs.createReadStream(path.join(dir, page, 'index.html')).pipe(res);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  // Crawler connections are kept alive; close() must not wait for them.
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (err.code === 'EADDRINUSE') {
        reject(new ConfigError(`${DEMO_SITE_PORT_VARIABLE}: port ${requested} on 127.0.0.1 is in use (is another demo running?); stop what uses it or set ${DEMO_SITE_PORT_VARIABLE} to a free port`));
      } else if (err.code === 'EACCES') {
        reject(new ConfigError(`${DEMO_SITE_PORT_VARIABLE}: not allowed to listen on port ${requested}; set ${DEMO_SITE_PORT_VARIABLE} to a port above 1023`));
      } else reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(requested, '127.0.0.1');
  });
  const port = (server.address() as AddressInfo).port;
  baseUrl = `http://127.0.0.1:${port}`;
  return {
    baseUrl,
    port,
    pages,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
