/**
 * The web source against a real HTTP site on 127.0.0.1 (tests/helpers/fixture-site.ts): discovery, politeness,
 * failure handling and resumption. Backoff settings are small so the file runs in seconds.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSource } from '../../../lib/crawl';
import { docIdFor } from '../../../lib/hash';
import { type FixtureSite, startFixtureSite } from '../../helpers/fixture-site';
import { crawlAll, type WebInput, webSource } from './helpers';

let site: FixtureSite;

const web = (config: WebInput) => webSource(config);

/**
 * Request arrivals `interval` apart. The server runs in the test's own process, so a request can be seen late when the
 * event loop is busy (tens of ms on a shared 2-core machine); lateness does not add up, since the crawler reserves its
 * slots on a fixed schedule. So: each gap at least interval - 50 ms, and the whole run at least (n-1) intervals less
 * 50 ms. Without a rate limit the gaps would be about 0 ms.
 */
function expectSpacing(starts: number[], interval: number): void {
  const slack = 50;
  for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(interval - slack);
  expect(starts.at(-1)! - starts[0]!).toBeGreaterThanOrEqual((starts.length - 1) * interval - slack);
}

beforeAll(async () => {
  site = await startFixtureSite();
});
afterAll(async () => {
  await site?.close();
});

describe('web source: discovery', () => {
  it('crawls a list of URLs, in canonical-URL order, with page metadata and a clear User-Agent', async () => {
    const urls = [site.url('/wordpress/'), site.url('/aclu/?utm_source=x#top'), site.url('/bbc-1/')];
    const { outcomes, docs, reports } = await crawlAll(web({ urls }));
    expect(reports).toEqual([]);
    expect(docs.map((d) => d.location)).toEqual([site.url('/aclu/'), site.url('/bbc-1/'), site.url('/wordpress/')]);
    expect(outcomes.map((o) => o.cursor)).toEqual(docs.map((d) => d.location));

    const aclu = docs[0]!;
    expect(aclu).toMatchObject({ docId: docIdFor(site.url('/aclu/')), sourceId: 'site', sourceType: 'web', contentType: 'text/html' });
    expect(aclu.title).toContain('Facebook Is Tracking Me Even Though');
    expect(aclu.author).toBe('Daniel Kahn Gillmor');
    expect(aclu.publishedAt).toBe('2018-04-05T06:00:00.000Z');
    expect(aclu.body).toContain('Facebook');
    expect(aclu.metadata).toMatchObject({ httpStatus: 200, encoding: 'utf-8', discoveredVia: 'url' });
    expect(docs[1]!.publishedAt).toBe('2015-07-24T04:36:09.000Z');

    expect(site.hits.get('/robots.txt')).toBe(1);
    const ua = site.requests.find((r) => r.path === '/aclu/')!.userAgent!;
    expect(ua).toMatch(/^twinflow\/\d+\.\d+\.\d+ \(\+https:\/\/github\.com\/twinflow\/twinflow\)$/);
  });

  it('reads a sitemap with include/exclude patterns and maxPages (one limit report with the count)', async () => {
    const before = new Map(site.hits);
    const { docs, reports } = await crawlAll(
      web({ sitemaps: [site.url('/sitemap.xml')], include: [`${site.baseUrl}/w*/**`], exclude: ['/wikipedia-3/'], maxPages: 3 }),
    );
    // Sitemap order (by slug): webmd-2, wikipedia, wikipedia-2, [wikipedia-3 excluded], wordpress (over the limit).
    expect(docs.map((d) => d.location)).toEqual([site.url('/webmd-2/'), site.url('/wikipedia-2/'), site.url('/wikipedia/')]);
    expect(docs.every((d) => d.metadata.discoveredVia === 'sitemap' && typeof d.metadata.lastmod === 'string')).toBe(true);
    expect(docs[1]!.metadata.lastmod).toBe('2001-10-29T00:00:00.000Z');

    const limit = reports.filter((r) => r.reason === 'limit_reached');
    expect(limit).toHaveLength(1);
    expect(limit[0]).toMatchObject({ kind: 'skipped', location: site.url('/wordpress/'), count: 1 });
    expect(limit[0]!.detail).toContain('maxPages=3');

    const excluded = reports.filter((r) => r.reason === 'excluded');
    expect(excluded).toHaveLength(site.pages.length - 4); // all but the five that match, plus wikipedia-3
    expect(excluded.find((r) => r.location === site.url('/wikipedia-3/'))!.detail).toBe('matches exclude pattern /wikipedia-3/');
    expect(excluded.find((r) => r.location === site.url('/aclu/'))!.detail).toBe('matches no include pattern');
    // Nothing past the limit or excluded was fetched.
    for (const p of ['/wordpress/', '/wikipedia-3/', '/youth/']) expect(site.hits.get(p) ?? 0).toBe(before.get(p) ?? 0);
  });

  it('follows nested sitemap indexes (gzip too) up to the depth limit, reading each sitemap once', async () => {
    const urlset = (paths: string[]) =>
      `<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">${paths.map((p) => `<url><loc>${site.url(p)}</loc></url>`).join('')}</urlset>`;
    const index = (paths: string[]) =>
      `<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">${paths.map((p) => `<sitemap><loc>${site.url(p)}</loc></sitemap>`).join('')}</sitemapindex>`;
    site.setRoute('/sm/index.xml', (_q, res) => res.writeHead(200, { 'content-type': 'application/xml' }).end(index(['/sm/pages.xml.gz', '/sm/nested.xml', '/sm/index.xml'])));
    site.setRoute('/sm/pages.xml.gz', (_q, res) => res.writeHead(200, { 'content-type': 'application/x-gzip' }).end(gzipSync(urlset(['/002/', '/cnn/']))));
    site.setRoute('/sm/nested.xml', (_q, res) => res.writeHead(200, { 'content-type': 'text/xml' }).end(index(['/sm/deep.xml', '/sm/broken.xml'])));
    site.setRoute('/sm/deep.xml', (_q, res) => res.writeHead(200, { 'content-type': 'text/xml' }).end(index(['/sm/deeper.xml'])));
    site.setRoute('/sm/broken.xml', (_q, res) => res.writeHead(200, { 'content-type': 'text/xml' }).end('<urlset><url><loc>oops</urlset>'));

    const { docs, reports } = await crawlAll(web({ sitemaps: [site.url('/sm/index.xml')], maxSitemapDepth: 2 }));
    expect(docs.map((d) => d.location)).toEqual([site.url('/002/'), site.url('/cnn/')]);
    expect(reports.find((r) => r.location === site.url('/sm/deeper.xml'))).toMatchObject({ reason: 'limit_reached' });
    expect(reports.find((r) => r.location === site.url('/sm/broken.xml'))).toMatchObject({ kind: 'failed', reason: 'parse_error' });
    expect(site.hits.get('/sm/index.xml')).toBe(1);
    expect(site.hits.get('/sm/deeper.xml')).toBeUndefined();
  });

  it('takes title, author and date from an RSS feed, and from an Atom feed', async () => {
    const { docs, reports } = await crawlAll(web({ feeds: [site.url('/feed.xml')] }));
    expect(reports).toEqual([]);
    const expected = site.pages.slice(0, 10);
    expect(docs).toHaveLength(10);
    for (const page of expected) {
      const doc = docs.find((d) => d.location === site.url(page.path))!;
      expect(doc.metadata.discoveredVia).toBe('feed');
      expect(doc.title).toBe(page.title ?? page.slug);
      if (page.author) expect(doc.author).toBe(page.author);
      // RSS dates have whole seconds.
      if (page.publishedAt) expect(doc.publishedAt).toBe(new Date(Math.floor(Date.parse(page.publishedAt) / 1000) * 1000).toISOString());
    }
    expect(docs.find((d) => d.location === site.url('/002/'))!.author).toBe('Nikhil Marathe');

    site.setRoute('/atom.xml', (_q, res) =>
      res.writeHead(200, { 'content-type': 'application/atom+xml' }).end(`<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom</title><author><name>Site Owner</name></author>
  <entry><title type="html">Metroid &amp;amp; more</title><link rel="alternate" href="${site.url('/lazy-image-2/')}"/><link rel="edit" href="/x"/>
    <published>2013-09-11T10:00:00-04:00</published><author><name>Mama Robotnik</name></author></entry>
  <entry><title>Mercurial</title><link href="${site.url('/mercurial/')}"/><updated>2020-01-02T03:04:05Z</updated></entry>
</feed>`),
    );
    const atom = await crawlAll(web({ feeds: [site.url('/atom.xml')] }));
    expect(atom.docFor(site.url('/lazy-image-2/'))).toMatchObject({ title: 'Metroid &amp; more', author: 'Mama Robotnik', publishedAt: '2013-09-11T14:00:00.000Z' });
    expect(atom.docFor(site.url('/mercurial/'))).toMatchObject({ title: 'Mercurial', author: 'Site Owner', publishedAt: '2020-01-02T03:04:05.000Z' });
  });

  it('reports a missing sitemap and a config without any URL source', async () => {
    const { docs, reports } = await crawlAll(web({ sitemaps: [site.url('/no-sitemap.xml')] }));
    expect(docs).toEqual([]);
    expect(reports).toEqual([expect.objectContaining({ kind: 'failed', reason: 'not_found', status: 404, location: site.url('/no-sitemap.xml') })]);
    expect(() => createSource({ type: 'web', id: 'x' })).toThrow(/urls: a web source needs at least one of urls, sitemaps or feeds/);
  });
});

describe('web source: fetching', () => {
  it('reports 404/410 as not_found and other 4xx as http_error', async () => {
    site.setRoute('/gone', (_q, res) => res.writeHead(410).end());
    site.setRoute('/forbidden', (_q, res) => res.writeHead(403).end());
    const { reportFor } = await crawlAll(web({ urls: [site.url('/nothing-here'), site.url('/gone'), site.url('/forbidden')] }));
    expect(reportFor(site.url('/nothing-here'))).toMatchObject({ kind: 'failed', reason: 'not_found', status: 404 });
    expect(reportFor(site.url('/gone'))).toMatchObject({ reason: 'not_found', status: 410 });
    expect(reportFor(site.url('/forbidden'))).toMatchObject({ reason: 'http_error', status: 403 });
    expect(site.hits.get('/forbidden')).toBe(1); // a 4xx is not retried
  });

  it('retries a 500 and succeeds; gives up on a lasting 503 after the attempts', async () => {
    let calls = 0;
    site.setRoute('/flaky', (_q, res) => {
      calls++;
      if (calls === 1) res.writeHead(500).end('try again');
      else res.writeHead(200, { 'content-type': 'text/html' }).end('<title>Flaky</title><p>ok now</p>');
    });
    site.setRoute('/down', (_q, res) => res.writeHead(503).end());
    const { docFor, reportFor } = await crawlAll(web({ urls: [site.url('/flaky'), site.url('/down')] }));
    expect(docFor(site.url('/flaky'))).toMatchObject({ title: 'Flaky' });
    expect(site.hits.get('/flaky')).toBe(2);
    expect(reportFor(site.url('/down'))).toMatchObject({ kind: 'failed', reason: 'http_error', status: 503 });
    expect(site.hits.get('/down')).toBe(3);
  });

  it('waits for Retry-After on a 429', async () => {
    let calls = 0;
    site.setRoute('/busy', (_q, res) => {
      calls++;
      if (calls === 1) res.writeHead(429, { 'retry-after': '1' }).end();
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('served');
    });
    const { docFor } = await crawlAll(web({ urls: [site.url('/busy')] }));
    expect(docFor(site.url('/busy'))).toMatchObject({ contentType: 'text/plain', body: 'served' });
    const [first, second] = site.requests.filter((r) => r.path === '/busy');
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(900); // 1 s, less the jitter of seeing the first one late
  });

  it('detects redirect loops and over-long chains, and keeps a redirected page under its listed URL', async () => {
    site.setRoute('/loop-a', (_q, res) => res.writeHead(302, { location: '/loop-b' }).end());
    site.setRoute('/loop-b', (_q, res) => res.writeHead(302, { location: '/loop-a' }).end());
    for (let i = 0; i < 10; i++) site.setRoute(`/hop/${i}`, (_q, res) => res.writeHead(301, { location: `/hop/${i + 1}` }).end());
    site.setRoute('/moved', (_q, res) => res.writeHead(301, { location: '/cnet/' }).end());
    site.setRoute('/alias', (_q, res) => res.writeHead(308, { location: '/cnn/' }).end());
    const { docFor, reportFor } = await crawlAll(
      web({ maxRedirects: 5, urls: [site.url('/loop-a'), site.url('/hop/0'), site.url('/moved'), site.url('/alias'), site.url('/cnn/')] }),
    );
    expect(reportFor(site.url('/loop-a'))).toMatchObject({ kind: 'failed', reason: 'redirect_loop' });
    expect(reportFor(site.url('/loop-a')).detail).toContain('/loop-b');
    expect(reportFor(site.url('/hop/0'))).toMatchObject({ kind: 'failed', reason: 'too_many_redirects' });
    expect(site.hits.get('/hop/5')).toBe(1);
    expect(site.hits.get('/hop/6')).toBeUndefined();

    const moved = docFor(site.url('/moved'));
    expect(moved).toMatchObject({ docId: docIdFor(site.url('/moved')), url: site.url('/cnet/') });
    expect(moved.metadata.redirectedFrom).toEqual([site.url('/moved')]);
    expect(moved.title).toContain('Zuckerberg');
    expect(reportFor(site.url('/alias'))).toMatchObject({ kind: 'skipped', reason: 'duplicate' });
    expect(docFor(site.url('/cnn/')).title).toContain('birth lottery');
  });

  it('respects robots.txt: a disallowed path is reported and never requested', async () => {
    const { reportFor } = await crawlAll(web({ urls: [site.url('/private/secret.html')] }));
    expect(reportFor(site.url('/private/secret.html'))).toMatchObject({ kind: 'skipped', reason: 'robots_disallowed' });
    expect(site.hits.get('/private/secret.html')).toBeUndefined();
    // ...unless told not to.
    const ignoring = await crawlAll(web({ urls: [site.url('/private/secret.html')], respectRobots: false }));
    expect(ignoring.docFor(site.url('/private/secret.html')).title).toBe('Private');
  });

  it('stops reading an oversized body as soon as it passes maxBytes', async () => {
    const total = 64 * 1024 * 1024;
    let sent = 0;
    let finished: () => void;
    const done = new Promise<void>((resolve) => (finished = resolve));
    site.setRoute('/huge', async (_q, res) => {
      res.writeHead(200, { 'content-type': 'text/html' }); // no Content-Length: the limit must hold while streaming
      const chunk = Buffer.alloc(64 * 1024, 'a');
      let closed = false;
      res.on('close', () => (closed = true));
      while (!closed && sent < total) {
        sent += chunk.length;
        if (!res.write(chunk)) await new Promise((r) => (res.once('drain', r), res.once('close', r)));
      }
      res.end();
      finished();
    });
    site.setRoute('/declared-huge', (_q, res) => {
      res.writeHead(200, { 'content-type': 'text/html', 'content-length': String(10 * 1024 * 1024) });
      res.write('<p>');
      setTimeout(() => res.destroy(), 2000).unref();
    });
    const { reportFor } = await crawlAll(web({ maxBytes: 1024 * 1024, urls: [site.url('/huge'), site.url('/declared-huge')] }));
    expect(reportFor(site.url('/huge'))).toMatchObject({ kind: 'skipped', reason: 'too_large' });
    await done;
    expect(sent).toBeLessThan(total / 4);
    expect(reportFor(site.url('/declared-huge')).detail).toContain('Content-Length 10485760');
  });

  it('reports non-HTML responses with their content type, and accepts Markdown', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    site.setRoute('/logo.png', (_q, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(png));
    site.setRoute('/data.json', (_q, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    site.setRoute('/notes.md', (_q, res) => res.writeHead(200, { 'content-type': 'text/markdown; charset=utf-8' }).end('# Notes\n\nSome *text*.'));
    const { reportFor, docFor } = await crawlAll(web({ urls: [site.url('/logo.png'), site.url('/data.json'), site.url('/notes.md')] }));
    expect(reportFor(site.url('/logo.png'))).toMatchObject({ kind: 'skipped', reason: 'non_html', status: 200 });
    expect(reportFor(site.url('/logo.png')).detail).toContain('image/png');
    expect(reportFor(site.url('/data.json')).detail).toContain('application/json');
    expect(docFor(site.url('/notes.md'))).toMatchObject({ contentType: 'text/markdown', body: '# Notes\n\nSome *text*.' });
  });

  it('decodes windows-1252 pages from the Content-Type charset or from <meta charset>', async () => {
    const text = (s: string) => Buffer.from(s, 'latin1');
    // “quoted” – and the euro sign are windows-1252 bytes 0x93 0x94 0x96 0x80, not Latin-1.
    const body = (head: string) =>
      Buffer.concat([text(`<html><head>${head}<title>Caf\xe9</title></head><body><p>`), Buffer.from([0x93]), text('na\xefve'), Buffer.from([0x94, 0x20, 0x96, 0x20, 0x80]), text('5</p></body></html>')]);
    site.setRoute('/latin1-header', (_q, res) => res.writeHead(200, { 'content-type': 'text/html; charset=windows-1252' }).end(body('')));
    site.setRoute('/latin1-meta', (_q, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(body('<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">')));
    const { docFor } = await crawlAll(web({ urls: [site.url('/latin1-header'), site.url('/latin1-meta')] }));
    for (const p of ['/latin1-header', '/latin1-meta']) {
      const doc = docFor(site.url(p));
      expect(doc.title).toBe('Café');
      expect(doc.body).toContain('<p>“naïve” – €5</p>');
      expect(doc.metadata.encoding).toBe('windows-1252');
    }
  });

  it('gives up on a page that does not answer within timeoutMs', async () => {
    site.setRoute('/slow', (_q, res) => {
      const timer = setTimeout(() => res.writeHead(200, { 'content-type': 'text/html' }).end('<p>late</p>'), 5000);
      res.on('close', () => clearTimeout(timer));
    });
    const started = performance.now();
    const { reportFor } = await crawlAll(web({ timeoutMs: 300, urls: [site.url('/slow')] }));
    expect(reportFor(site.url('/slow'))).toMatchObject({ kind: 'failed', reason: 'timeout' });
    expect(performance.now() - started).toBeLessThan(2000);
    expect(site.hits.get('/slow')).toBe(1); // a timeout is not retried
  });
});

describe('web source: politeness and resumption', () => {
  it('keeps to the per-host request rate and concurrency', async () => {
    let active = 0;
    let peak = 0;
    for (let i = 0; i < 6; i++) {
      site.setRoute(`/rate/${i}`, (_q, res) => {
        active++;
        peak = Math.max(peak, active);
        setTimeout(() => {
          active--;
          res.writeHead(200, { 'content-type': 'text/plain' }).end(`page ${i}`);
        }, 300); // longer than the 100 ms between starts, so without a concurrency limit 3 would overlap
      });
    }
    const urls = Array.from({ length: 6 }, (_, i) => site.url(`/rate/${i}`));
    const from = site.requests.length;
    const { docs } = await crawlAll(web({ urls, perHostRps: 10, perHostConcurrency: 2 }));
    expect(docs).toHaveLength(6);
    const starts = site.requests.slice(from).filter((r) => r.path.startsWith('/rate/')).map((r) => r.at);
    expect(starts).toHaveLength(6);
    expectSpacing(starts, 100); // 10 rps
    expect(peak).toBe(2);
  });

  it('resumes after a cursor without fetching what was already done', async () => {
    const config = { sitemaps: [site.url('/sitemap.xml')], include: [`${site.baseUrl}/{mozilla-2,mathjax,mercurial,medium-3,missing-paragraphs}/`] };
    const first = await crawlAll(web(config));
    expect(first.docs).toHaveLength(5);
    // Resume after the second document (the excluded pages' reports are outcomes in the same order).
    const at = first.outcomes.findIndex((o) => o.kind === 'document' && o.doc.docId === first.docs[1]!.docId);
    const cursor = first.outcomes[at]!.cursor;
    expect(cursor).toBe(first.docs[1]!.location);
    const hitsBefore = new Map(site.hits);
    const progress: number[] = [];
    const second = await crawlAll(web(config), { resumeAfter: cursor, onProgress: (p) => progress.push(p.done) });
    expect(second.outcomes.map((o) => o.cursor)).toEqual(first.outcomes.slice(at + 1).map((o) => o.cursor));
    expect(second.docs.map((d) => d.docId)).toEqual(first.docs.slice(2).map((d) => d.docId));
    for (const p of first.docs.map((d) => new URL(d.location).pathname)) {
      expect(site.hits.get(p)).toBe((hitsBefore.get(p) ?? 0) + (first.docs.slice(0, 2).some((d) => d.location.endsWith(p)) ? 0 : 1));
    }
    expect(progress[0]).toBe(at + 2);
    expect(progress.at(-1)).toBe(first.outcomes.length);
  });

  it('slows down to a robots.txt Crawl-delay, and crawls nothing when robots.txt is unreachable', async () => {
    const other = await startFixtureSite({ pages: ['002', 'cnn', 'cnet'] });
    try {
      other.setRoute('/robots.txt', (_q, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('User-agent: *\nCrawl-delay: 0.3\n'));
      const { docs } = await crawlAll(web({ urls: other.pages.map((p) => other.url(p.path)) }));
      expect(docs).toHaveLength(3);
      const starts = other.requests.filter((r) => r.path !== '/robots.txt').map((r) => r.at);
      expectSpacing(starts, 300);

      other.setRoute('/robots.txt', (_q, res) => res.writeHead(503).end());
      const down = await crawlAll(web({ urls: [other.url('/cnn/')] }));
      expect(down.reportFor(other.url('/cnn/'))).toMatchObject({ kind: 'failed', reason: 'robots_unavailable' });
      expect(down.reportFor(other.url('/cnn/')).detail).toMatch(/robots\.txt could not be read.*RFC 9309/);
      expect(other.hits.get('/cnn/')).toBe(1); // only the first crawl's request

      other.setRoute('/robots.txt', (_q, res) => res.writeHead(404).end());
      expect((await crawlAll(web({ urls: [other.url('/cnn/')] }))).docs).toHaveLength(1); // no robots.txt: all allowed
    } finally {
      await other.close();
    }
  });

  it('stops when its signal is aborted', async () => {
    const controller = new AbortController();
    site.setRoute('/hang', () => controller.abort(new Error('stop now')));
    const source = web({ urls: [site.url('/hang'), site.url('/youth/')] });
    await expect(crawlAll(source, { signal: controller.signal })).rejects.toThrow('stop now');
  });
});
