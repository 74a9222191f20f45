/**
 * The web source against hosts and responses that go wrong below HTTP or inside a 200: a host name that does not
 * resolve (RFC 6761 reserves .invalid), a closed port, a self-signed certificate, gzip bombs, a sitemap that is an HTML
 * page, a feed with no items, broken redirects, a connection dropped mid-body, a page without any charset. Every case
 * ends in one outcome per location with a reason and a detail a person can act on: never a throw, never a hang.
 * Real servers on 127.0.0.1 (an https one with a certificate made here with openssl); no mocks.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createGzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FixtureSite, startFixtureSite } from '../../helpers/fixture-site';
import { crawlAll, type WebInput, webSource } from './helpers';

/** Two attempts and short waits: these tests are about the answer, not the backoff. */
const web = (config: WebInput) => webSource(config, { attempts: 2, maxDelayMs: 20, maxRetryAfterMs: 100 });

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/** `size` bytes of zeros, gzip'd as a stream (a ~1000:1 bomb that never exists inflated in this process). */
async function gzipBomb(size: number): Promise<Buffer> {
  const gz = createGzip({ level: 9 });
  const chunks: Buffer[] = [];
  gz.on('data', (c: Buffer) => chunks.push(c));
  const block = Buffer.alloc(1024 * 1024);
  for (let sent = 0; sent < size; sent += block.length) {
    if (!gz.write(block)) await new Promise((resolve) => gz.once('drain', resolve));
  }
  await new Promise((resolve) => gz.end(resolve));
  return Buffer.concat(chunks);
}

/** Samples the process's resident memory while `work` runs; returns the highest value seen. */
async function peakRss<T>(work: () => Promise<T>): Promise<{ result: T; peak: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 2);
  try {
    const result = await work();
    return { result, peak: Math.max(peak, process.memoryUsage().rss) };
  } finally {
    clearInterval(timer);
  }
}

const MB = 1024 * 1024;
let site: FixtureSite;
let bomb: Buffer; // 512 MiB of zeros, about 500 KiB gzip'd

beforeAll(async () => {
  site = await startFixtureSite({ pages: ['002', 'cnn'] });
  bomb = await gzipBomb(512 * MB);
});
afterAll(async () => {
  await site?.close();
});

describe('web source: hosts that cannot be reached', () => {
  it('reports a host name that does not resolve as network_error naming the DNS error, for a page and for a sitemap', async () => {
    const page = 'http://no-such-host.invalid/article';
    const sitemap = 'http://no-such-sitemap-host.invalid/sitemap.xml';
    const started = performance.now();
    const { reportFor, docs } = await crawlAll(web({ urls: [page, site.url('/002/')], sitemaps: [sitemap] }));
    expect(performance.now() - started).toBeLessThan(10_000);
    // The other host's page is unaffected.
    expect(docs.map((d) => d.location)).toEqual([site.url('/002/')]);
    for (const [location, prefix] of [
      [page, ''],
      [sitemap, 'sitemap: '],
    ] as const) {
      const r = reportFor(location);
      expect(r).toMatchObject({ kind: 'failed', reason: 'network_error' });
      expect(r.detail.startsWith(prefix)).toBe(true);
      expect(r.detail).toMatch(/ENOTFOUND|EAI_AGAIN/);
      expect(r.detail).toContain(new URL(location).hostname);
    }
  });

  it('reports a closed port as network_error (ECONNREFUSED), at once, with robots.txt on or off', async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/page`;
    const started = performance.now();
    for (const respectRobots of [true, false]) {
      const { reportFor } = await crawlAll(web({ urls: [url], respectRobots }));
      expect(reportFor(url)).toMatchObject({ kind: 'failed', reason: 'network_error' });
      expect(reportFor(url).detail).toContain(`ECONNREFUSED 127.0.0.1:${port}`);
    }
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('reports a self-signed certificate as network_error naming the certificate problem, without retrying it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
      let connections = 0;
      const server = https.createServer({ key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) }, (_q, res) =>
        res.writeHead(200, { 'content-type': 'text/html' }).end('<p>never read</p>'),
      );
      server.on('connection', () => connections++);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/page`;
        for (const respectRobots of [false, true]) {
          connections = 0;
          const started = performance.now();
          const { reportFor } = await crawlAll(web({ urls: [url], respectRobots, retry: { attempts: 4 } }));
          expect(performance.now() - started).toBeLessThan(5000);
          expect(reportFor(url)).toMatchObject({ kind: 'failed', reason: 'network_error' });
          expect(reportFor(url).detail).toMatch(/TLS certificate problem: self[- ]signed certificate \(DEPTH_ZERO_SELF_SIGNED_CERT\)/);
          expect(connections).toBe(1); // a certificate that is not trusted now will not be on a retry
        }
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a connection dropped in the middle of the body as network_error', async () => {
    site.setRoute('/cut', (_q, res) => {
      res.writeHead(200, { 'content-type': 'text/html', 'content-length': '100000' });
      res.write('<html><body><p>the first part');
      setTimeout(() => res.destroy(), 20);
    });
    const { reportFor } = await crawlAll(web({ urls: [site.url('/cut')] }));
    expect(reportFor(site.url('/cut'))).toMatchObject({ kind: 'failed', reason: 'network_error' });
    expect(reportFor(site.url('/cut')).detail).toMatch(/terminated|other side closed|socket/i);
  });
});

describe('web source: responses that inflate', () => {
  it('stops reading a gzip-encoded page at maxBytes of inflated body, in bounded memory', async () => {
    site.setRoute('/bomb.html', (_q, res) =>
      res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip', 'content-length': String(bomb.length) }).end(bomb),
    );
    const before = process.memoryUsage().rss;
    const { result, peak } = await peakRss(() => crawlAll(web({ urls: [site.url('/bomb.html')], maxBytes: MB })));
    const r = result.reportFor(site.url('/bomb.html'));
    expect(r).toMatchObject({ kind: 'skipped', reason: 'too_large' });
    expect(r.detail).toBe(`body is over the limit of ${MB} bytes once decoded (Content-Encoding: gzip) (stopped reading)`);
    // 512 MiB inflated; what the crawl holds stays near its limit.
    expect(peak - before).toBeLessThan(128 * MB);
  });

  it('stops a gzip-encoded sitemap at the 50 MB sitemap limit, and refuses a .xml.gz sitemap that inflates past it', async () => {
    site.setRoute('/encoded-sitemap.xml', (_q, res) =>
      res.writeHead(200, { 'content-type': 'application/xml', 'content-encoding': 'gzip', 'content-length': String(bomb.length) }).end(bomb),
    );
    site.setRoute('/bomb-sitemap.xml.gz', (_q, res) => res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': String(bomb.length) }).end(bomb));
    const before = process.memoryUsage().rss;
    const { result, peak } = await peakRss(() => crawlAll(web({ sitemaps: [site.url('/encoded-sitemap.xml'), site.url('/bomb-sitemap.xml.gz')] })));
    expect(result.docs).toEqual([]);
    const encoded = result.reportFor(site.url('/encoded-sitemap.xml'));
    expect(encoded).toMatchObject({ kind: 'skipped', reason: 'too_large' });
    expect(encoded.detail).toBe(`sitemap: body is over the limit of ${50 * MB} bytes once decoded (Content-Encoding: gzip) (stopped reading)`);
    const gz = result.reportFor(site.url('/bomb-sitemap.xml.gz'));
    expect(gz).toMatchObject({ kind: 'failed', reason: 'parse_error' });
    expect(gz.detail).toMatch(/^sitemap: cannot gunzip: Cannot create a Buffer larger than 52428800 bytes/);
    // Each stops at 50 MB (the sitemap protocol's own limit), far from the 512 MB the bomb inflates to.
    expect(peak - before).toBeLessThan(256 * MB);
  });
});

describe('web source: lists that are not lists', () => {
  it('reports a sitemap URL that serves an HTML page as parse_error', async () => {
    site.setRoute('/html-sitemap.xml', (_q, res) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><html><head><title>Oops</title></head><body><p>Page moved<br></body></html>'),
    );
    const { reportFor, docs } = await crawlAll(web({ sitemaps: [site.url('/html-sitemap.xml')] }));
    expect(docs).toEqual([]);
    expect(reportFor(site.url('/html-sitemap.xml'))).toMatchObject({ kind: 'failed', reason: 'parse_error' });
    expect(reportFor(site.url('/html-sitemap.xml')).detail).toMatch(/^sitemap is not well-formed XML: .+\(line \d+\)$/);

    // Well-formed XHTML gets past the XML check and is still no sitemap.
    site.setRoute('/xhtml-sitemap.xml', (_q, res) => res.writeHead(200, { 'content-type': 'application/xhtml+xml' }).end('<html><body><p>hi</p></body></html>'));
    const xhtml = await crawlAll(web({ sitemaps: [site.url('/xhtml-sitemap.xml')] }));
    expect(xhtml.reportFor(site.url('/xhtml-sitemap.xml')).detail).toBe('sitemap has neither <urlset> nor <sitemapindex>');
  });

  it('reports the links of a sitemap that are not http(s) URLs as invalid_url, and crawls the rest', async () => {
    site.setRoute('/mixed-sitemap.xml', (_q, res) =>
      res
        .writeHead(200, { 'content-type': 'application/xml' })
        .end(`<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>ftp://files.example.com/a.txt</loc></url><url><loc>javascript:alert(1)</loc></url><url><loc>${site.url('/cnn/')}</loc></url></urlset>`),
    );
    const { reportFor, docs } = await crawlAll(web({ sitemaps: [site.url('/mixed-sitemap.xml')] }));
    expect(docs.map((d) => d.location)).toEqual([site.url('/cnn/')]);
    for (const bad of ['ftp://files.example.com/a.txt', 'javascript:alert(1)']) {
      expect(reportFor(bad)).toMatchObject({ kind: 'failed', reason: 'invalid_url' });
      expect(reportFor(bad).detail).toBe(`not an absolute http(s) URL (listed by ${site.url('/mixed-sitemap.xml')})`);
    }
  });

  it('reads an empty sitemap and a feed with no items as no pages, without an error', async () => {
    site.setRoute('/empty-sitemap.xml', (_q, res) => res.writeHead(200, { 'content-type': 'application/xml' }).end('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"></urlset>'));
    site.setRoute('/empty-feed.xml', (_q, res) => res.writeHead(200, { 'content-type': 'application/rss+xml' }).end('<?xml version="1.0"?><rss version="2.0"><channel><title>Nothing yet</title></channel></rss>'));
    site.setRoute('/empty-atom.xml', (_q, res) => res.writeHead(200, { 'content-type': 'application/atom+xml' }).end('<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Nothing</title></feed>'));
    const { outcomes } = await crawlAll(web({ sitemaps: [site.url('/empty-sitemap.xml')], feeds: [site.url('/empty-feed.xml'), site.url('/empty-atom.xml')] }));
    expect(outcomes).toEqual([]);
  });

  it('reports a feed that is not a feed as parse_error', async () => {
    site.setRoute('/json-feed', (_q, res) => res.writeHead(200, { 'content-type': 'application/xml' }).end('<?xml version="1.0"?><items><item>not RSS</item></items>'));
    const { reportFor } = await crawlAll(web({ feeds: [site.url('/json-feed')] }));
    expect(reportFor(site.url('/json-feed'))).toMatchObject({ kind: 'failed', reason: 'parse_error', detail: 'feed is neither RSS (<rss>, <rdf:RDF>) nor Atom (<feed>)' });
  });
});

describe('web source: broken redirects and encodings', () => {
  it('reports a redirect without a Location, and one to a non-http(s) scheme', async () => {
    site.setRoute('/no-location', (_q, res) => res.writeHead(302).end());
    site.setRoute('/to-ftp', (_q, res) => res.writeHead(301, { location: 'ftp://files.example.com/page' }).end());
    const { reportFor } = await crawlAll(web({ urls: [site.url('/no-location'), site.url('/to-ftp')] }));
    expect(reportFor(site.url('/no-location'))).toMatchObject({ kind: 'failed', reason: 'http_error', status: 302, detail: 'HTTP 302 without a Location header' });
    expect(reportFor(site.url('/to-ftp'))).toMatchObject({ kind: 'failed', reason: 'invalid_url', detail: 'not an http(s) URL: ftp://files.example.com/page' });
  });

  it('decodes a page in a legacy encoding that declares no charset anywhere as windows-1252', async () => {
    // Latin-1 bytes (é = 0xE9, not valid UTF-8) with no charset in the header and no <meta charset>.
    const body = Buffer.from('<html><head><title>Caf\xe9 cr\xe8me</title></head><body><p>D\xe9j\xe0 vu \x93quoted\x94</p></body></html>', 'latin1');
    site.setRoute('/legacy', (_q, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(body));
    const doc = (await crawlAll(web({ urls: [site.url('/legacy')] }))).docFor(site.url('/legacy'));
    expect(doc.title).toBe('Café crème');
    expect(doc.body).toContain('<p>Déjà vu “quoted”</p>');
    expect(doc.body).not.toContain('\uFFFD');
    expect(doc.metadata.encoding).toBe('windows-1252');
  });
});
