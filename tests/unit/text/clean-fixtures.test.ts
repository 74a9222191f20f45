/**
 * The cleaner on 49 real pages (news, blogs, wikis, docs): metadata against what Firefox's reader view reports for
 * them, boilerplate gone on pages inspected by hand, normalisation idempotent. Reports the throughput.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { CleanDocument } from '../../../lib/schemas/documents';
import { cleanDocument, normalizeText, type CleanResult } from '../../../lib/text';
import { loadWebPages, rawWebPage, squash, type WebPage } from './fixtures';

let pages: WebPage[];
const results = new Map<string, CleanResult>();

function cleaned(name: string): CleanDocument {
  const r = results.get(name);
  if (!r?.ok) throw new Error(`${name} did not clean: ${r && !r.ok ? `${r.reason}: ${r.detail}` : 'missing'}`);
  return r.doc;
}

beforeAll(() => {
  pages = loadWebPages();
  const started = performance.now();
  for (const page of pages) results.set(page.name, cleanDocument(rawWebPage(page.name, page.html)));
  const seconds = (performance.now() - started) / 1000;
  const megabytes = pages.reduce((n, p) => n + Buffer.byteLength(p.html), 0) / 1e6;
  console.log(
    `clean throughput: ${pages.length} pages (${megabytes.toFixed(1)} MB of HTML) in ${seconds.toFixed(2)} s = ` +
      `${(pages.length / seconds).toFixed(1)} pages/s, ${(megabytes / seconds).toFixed(2)} MB/s`,
  );
  // The whole corpus is cleaned here; the limit leaves room for a machine shared with other builds.
}, 120_000);

describe('cleanDocument on real web pages', () => {
  it('has all 49 pages', () => {
    expect(pages).toHaveLength(49);
  });

  it('cleans every page but the two test stubs with almost no text, which are dropped as too short', () => {
    const dropped = [...results].filter(([, r]) => !r.ok).map(([name, r]) => [name, !r.ok && r.reason]);
    expect(dropped).toEqual([
      ['005-unescape-html-entities', 'too_short'],
      ['js-link-replacement', 'too_short'],
    ]);
    for (const [, r] of results) if (r.ok) expect(r.doc.markdown.trim()).not.toBe('');
  });

  // 46 of 49 match. The misses: two titles that the installed Readability (0.6.0) derives differently from the
  // reference (it does not split "Title – Site" at an en dash; it drops "Evolve:" on mercurial), and a stub page
  // without any title, which the cleaner names after its URL rather than leaving it empty.
  it('finds the reader-view title on at least 46 of the 49 pages', () => {
    const misses: string[] = [];
    for (const page of pages) {
      // The two stubs dropped as too short are measured too, with the minimum lifted.
      const r = results.get(page.name)!.ok ? results.get(page.name)! : cleanDocument(rawWebPage(page.name, page.html), { minChars: 0 });
      const title = r.ok ? r.doc.title : undefined;
      if (squash(title) !== squash(page.expected.title)) misses.push(`${page.name}: ${JSON.stringify(title)} != ${JSON.stringify(page.expected.title)}`);
    }
    console.log(`titles: ${pages.length - misses.length}/${pages.length} match; misses:\n  ${misses.join('\n  ')}`);
    expect(pages.length - misses.length).toBeGreaterThanOrEqual(46);
  });

  it('finds the byline on every page that has one', () => {
    const withByline = pages.filter((p) => squash(p.expected.byline) && results.get(p.name)?.ok);
    expect(withByline.length).toBe(25);
    for (const page of withByline) expect(cleaned(page.name).author, page.name).toBe(squash(page.expected.byline));
  });

  it('finds the published time on every page that has one', () => {
    const dated = pages.filter((p) => p.expected.publishedTime);
    expect(dated.length).toBeGreaterThanOrEqual(10);
    for (const page of dated) expect(cleaned(page.name).publishedAt, page.name).toBe(page.expected.publishedTime);
  });

  it('keeps the language the page declares', () => {
    expect(cleaned('lemonde-1').language).toBe('fr');
    expect(cleaned('pixnet').language).toBe('zh-TW');
    expect(cleaned('002').language).toBe('en-US');
  });

  it.each([
    {
      page: 'firefox-nightly-blog',
      present: ['### Highlights', 'which aims to prevent starting an update while another Firefox instance is running'],
      absent: ['Leave a Reply', 'comments on “These Weeks in Firefox', 'Get the Mozilla newsletter', 'Recent Comments'],
    },
    {
      page: 'bbc-1',
      present: ['President Barack Obama has admitted that his failure to pass', '## Kenya trip'],
      absent: ['Accessibility links', 'Skip to content', 'More on this story'],
    },
    {
      page: 'theverge',
      present: ['I still remember using the iPhone 4 for the first time in 2010.'],
      absent: ['Skip to main content', 'Share this story'],
    },
    {
      page: 'cnet',
      present: ["Anyone who has ever been involved in closing a billion-dollar acquisition deal"],
      absent: ['Show More Comments', 'Quickly sign up with'],
    },
    {
      page: 'wordpress',
      present: ['Stack Overflow published its analysis of [2017 hiring trends](https://stackoverflow.blog/2017/03/09/developer-hiring-trends-2017/)'],
      absent: ['other subscribers', 'Recent Comments'],
    },
    { page: 'nytimes-3', present: ['corrosive rock salt'], absent: ['Advertisement'] },
  ])('drops the boilerplate of $page and keeps its article', ({ page, present, absent }) => {
    const source = pages.find((p) => p.name === page)!.html;
    const md = cleaned(page).markdown;
    for (const s of absent) {
      expect(source, `"${s}" should be in the source of ${page}`).toContain(s);
      expect(md, `"${s}" should be gone from ${page}`).not.toContain(s);
    }
    for (const s of present) expect(md, `"${s}" should be kept in ${page}`).toContain(s);
  });

  it('keeps the code blocks and tables of pages that have them', () => {
    const fetchApi = cleaned('002').markdown;
    expect(fetchApi).toContain('```\nfetch("/data.json").then(function(res) {\n  // res instanceof Response == true.');
    expect(fetchApi.match(/^```/gm)!.length % 2).toBe(0);
    const factorio = cleaned('keep-tabular-data').markdown;
    expect(factorio).toMatch(/^\| +\| General UX \| UX draft \| UX review \|/m);
    expect(factorio).not.toContain('<table');
  });

  it('makes links absolute against the page URL or its <base>', () => {
    expect(cleaned('base-url').markdown).toContain('](http://fakehost/test/base-url/foo/bar/baz.html)');
    expect(cleaned('base-url-base-element').markdown).toContain('](http://fakehost/foo/bar/baz.html)');
    expect(cleaned('base-url-base-element-relative').markdown).toContain('](http://fakehost/test/base-url-base-element-relative/base/foo/bar/baz.html)');
  });

  it('normalisation is idempotent and cleaning the Markdown again changes nothing', () => {
    for (const [name, r] of results) {
      if (!r.ok) continue;
      expect(normalizeText(r.doc.markdown), name).toBe(r.doc.markdown);
      const again = cleanDocument({ ...rawWebPage(name, r.doc.markdown), contentType: 'text/markdown' });
      expect(again.ok && again.doc.markdown, name).toBe(r.doc.markdown);
      expect(again.ok && again.doc.contentHash, name).toBe(r.doc.contentHash);
    }
  });
});
