import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractHtmlMeta } from '../../../lib/crawl/web/html-meta';
import { parseFeed, parseSitemap, XmlFormatError } from '../../../lib/crawl/web/xml-discovery';
import { FIXTURE_PAGES_DIR } from '../../helpers/fixture-site';

describe('parseSitemap', () => {
  it('reads a urlset with lastmod, and a sitemap index', () => {
    expect(
      parseSitemap(`<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
        <url><loc> https://e.com/a?x=1&amp;y=2 </loc><lastmod>2024-03-01</lastmod></url><url><loc>https://e.com/b</loc></url><url><lastmod>2024-01-01</lastmod></url></urlset>`),
    ).toEqual({ kind: 'urlset', urls: [{ loc: 'https://e.com/a?x=1&y=2', lastmod: '2024-03-01T00:00:00.000Z' }, { loc: 'https://e.com/b' }] });
    expect(parseSitemap('<sitemapindex><sitemap><loc>https://e.com/s1.xml</loc></sitemap></sitemapindex>')).toEqual({ kind: 'index', sitemaps: ['https://e.com/s1.xml'] });
    expect(parseSitemap('<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"></urlset>')).toEqual({ kind: 'urlset', urls: [] });
  });

  it('rejects XML that is not a sitemap, and broken XML, naming the problem', () => {
    expect(() => parseSitemap('<html><body/></html>')).toThrow(/neither <urlset> nor <sitemapindex>/);
    expect(() => parseSitemap('<urlset><url></urlset>')).toThrow(XmlFormatError);
  });
});

describe('parseFeed', () => {
  it('reads RSS 2.0 items: link, title, dc:creator or the name in <author>, pubDate', () => {
    const items = parseFeed(`<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>T</title>
      <item><title><![CDATA[Hello & <b>world</b>]]></title><link>https://e.com/1</link><dc:creator>Ann</dc:creator><pubDate>Tue, 10 Jun 2003 04:00:00 GMT</pubDate></item>
      <item><title>Two</title><guid isPermaLink="true">https://e.com/2</guid><author>bob@e.com (Bob B)</author></item>
      <item><title>No link</title><guid isPermaLink="false">id-3</guid></item>
    </channel></rss>`);
    expect(items).toEqual([
      { link: 'https://e.com/1', title: 'Hello & <b>world</b>', author: 'Ann', publishedAt: '2003-06-10T04:00:00.000Z' },
      { link: 'https://e.com/2', title: 'Two', author: 'Bob B', publishedAt: undefined },
    ]);
  });

  it('reads RSS 1.0 (RDF) and Atom entries (alternate link, entry or feed author, published or updated)', () => {
    const rdf = parseFeed(`<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
      <item rdf:about="https://e.com/r"><title>R</title><link>https://e.com/r</link><dc:date>2004-01-01T10:00:00Z</dc:date></item></rdf:RDF>`);
    expect(rdf).toEqual([{ link: 'https://e.com/r', title: 'R', author: undefined, publishedAt: '2004-01-01T10:00:00.000Z' }]);
    const atom = parseFeed(`<feed xmlns="http://www.w3.org/2005/Atom"><author><name>Feed Author</name></author>
      <entry><title type="text">A</title><link rel="self" href="https://e.com/self"/><link rel="alternate" href="https://e.com/a"/><updated>2020-05-05T00:00:00Z</updated></entry>
      <entry><title>B</title><link href="https://e.com/b"/><author><name>X</name></author><author><name>Y</name></author><published>2021-01-01T00:00:00+02:00</published></entry></feed>`);
    expect(atom).toEqual([
      { link: 'https://e.com/a', title: 'A', author: 'Feed Author', publishedAt: '2020-05-05T00:00:00.000Z' },
      { link: 'https://e.com/b', title: 'B', author: 'X, Y', publishedAt: '2020-12-31T22:00:00.000Z' },
    ]);
  });

  it('rejects a document that is not a feed', () => {
    expect(() => parseFeed('<urlset/>')).toThrow(/neither RSS/);
  });
});

describe('extractHtmlMeta', () => {
  it('prefers Open Graph and article tags, then JSON-LD, then <title> and <time>', () => {
    const html = `<!doctype html><html lang="fr"><head><title>Tag title</title>
      <meta property="og:title" content="OG &amp; title"><meta name="author" content="https://facebook.com/someone">
      <meta property="article:author" content="Ann Author"><link rel="canonical" href="/canon">
      <script type="application/ld+json">{"@graph":[{"@type":"WebSite"},{"@type":"Article","headline":"LD","datePublished":"2019-02-03","author":[{"name":"L1"},{"name":"L2"}]}]}</script>
      </head><body><time datetime="2001-01-01">x</time></body></html>`;
    expect(extractHtmlMeta(html, 'https://e.com/page')).toEqual({
      title: 'OG & title',
      author: 'Ann Author',
      publishedAt: '2019-02-03T00:00:00.000Z',
      lang: 'fr',
      canonical: 'https://e.com/canon',
    });
    expect(extractHtmlMeta('<html><head><title> Only   title </title></head><body><article><time datetime="2001-01-01T10:00:00Z"></time></article></body></html>')).toEqual({
      title: 'Only title',
      publishedAt: '2001-01-01T10:00:00.000Z',
    });
    expect(extractHtmlMeta('<p>no head at all</p>')).toEqual({});
  });

  it('finds the metadata of real pages (JSON-LD in CDATA, author meta tags)', () => {
    const page = (slug: string) => fs.readFileSync(path.join(FIXTURE_PAGES_DIR, slug, 'source.html'), 'utf8');
    expect(extractHtmlMeta(page('aclu'))).toMatchObject({ author: 'Daniel Kahn Gillmor', publishedAt: '2018-04-05T06:00:00.000Z', lang: 'en' });
    expect(extractHtmlMeta(page('theverge'))).toMatchObject({ author: 'Alex Heath', publishedAt: '2023-06-07T20:54:26.829Z' });
    expect(extractHtmlMeta(page('wikipedia-3')).title).toContain('Hermitian matrix');
  });
});
