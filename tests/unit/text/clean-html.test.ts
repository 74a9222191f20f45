import { describe, expect, it } from 'vitest';
import { cleanDocument, type CleanResult } from '../../../lib/text';
import type { CleanDocument } from '../../../lib/schemas/documents';
import { rawDoc } from './fixtures';

const PROSE = [
  'Durable execution means that a workflow survives the crash of the process that runs it, because every step it has taken is recorded in a history that a new worker can replay.',
  'The history is the source of truth: a worker that picks the workflow up again replays the recorded events, skips the activities that already completed and carries on from the first one that did not.',
  'Activities are where side effects live. They are retried with backoff when they fail, and they report their progress with heartbeats so that a retry can resume where the last attempt stopped.',
].map((p) => `<p>${p}</p>`).join('\n');

/** A page with the usual chrome around an article: navigation, a cookie banner, a sidebar, comments and a footer. */
function page(article: string, head = ''): string {
  return `<!doctype html><html lang="en"><head><title>Durable execution explained for everyone | Example Blog</title>${head}</head><body>
  <header class="site-header"><a href="/">Example Blog</a><nav class="main-nav"><ul><li><a href="/archive">Archive</a></li><li><a href="/about">About us</a></li><li><a href="/subscribe">Subscribe to our newsletter</a></li></ul></nav></header>
  <div id="cookie-banner" class="cookie-consent">We use cookies to improve your experience. <button>Accept all cookies</button></div>
  <main><article class="post">
    <h1>Durable execution explained</h1>
    <p class="byline">By <span class="author">Ada Lovelace</span></p>
    <div class="entry-content">${article}</div>
  </article>
  <aside class="sidebar"><h3>Popular posts</h3><ul><li><a href="/p/1">Ten tips for faster builds</a></li><li><a href="/p/2">Why we moved to Rust</a></li></ul></aside>
  <section id="comments" class="comments"><h3>3 comments</h3><div class="comment"><p>Great post, thanks for sharing this with us!</p></div><form><textarea></textarea><button>Post comment</button></form></section>
  </main>
  <footer class="site-footer"><p>© 2024 Example Blog. All rights reserved.</p><a href="/privacy">Privacy policy</a></footer>
  </body></html>`;
}

function clean(html: string, extra: Parameters<typeof rawDoc>[2] = {}): CleanDocument {
  const result: CleanResult = cleanDocument(rawDoc(html, 'text/html', { url: 'https://blog.example.com/posts/durable-execution', ...extra }));
  if (!result.ok) throw new Error(`expected the page to clean, got ${result.reason}: ${result.detail}`);
  return result.doc;
}

describe('cleanDocument: HTML main content', () => {
  it('keeps the article and drops navigation, cookie banner, sidebar, comments and footer', () => {
    const md = clean(page(PROSE)).markdown;
    expect(md).toContain('Durable execution means that a workflow survives the crash');
    expect(md).toContain('Activities are where side effects live.');
    for (const boilerplate of ['About us', 'Subscribe to our newsletter', 'We use cookies', 'Accept all cookies', 'Popular posts', 'Why we moved to Rust', 'Great post, thanks', 'Post comment', 'All rights reserved', 'Privacy policy']) {
      expect(md, boilerplate).not.toContain(boilerplate);
    }
  });

  it('fills title, author, date, language and site name from the page when the crawler did not', () => {
    const head = `<meta property="og:title" content="Durable execution explained">
      <meta property="og:site_name" content="Example Blog">
      <meta property="article:published_time" content="2024-03-01T09:30:00Z">
      <meta name="author" content="Ada Lovelace">`;
    const doc = clean(page(PROSE, head));
    expect(doc.title).toBe('Durable execution explained');
    expect(doc.author).toBe('Ada Lovelace');
    expect(doc.publishedAt).toBe('2024-03-01T09:30:00Z');
    expect(doc.language).toBe('en');
    expect(doc.metadata.siteName).toBe('Example Blog');
  });

  it('reads the published date and author from JSON-LD', () => {
    const head = `<script type="application/ld+json">{"@context":"https://schema.org","@type":"BlogPosting","headline":"Durable execution explained","datePublished":"2023-11-05","author":{"@type":"Person","name":"Grace Hopper"}}</script>`;
    const doc = clean(page(PROSE, head));
    expect(doc.publishedAt).toBe('2023-11-05');
    expect(doc.author).toBe('Grace Hopper');
  });

  it('keeps what the crawler already set', () => {
    const doc = clean(page(PROSE), { title: 'Crawler title', author: 'Crawler author', publishedAt: '2020-01-01' });
    expect(doc.title).toBe('Crawler title');
    expect(doc.author).toBe('Crawler author');
    expect(doc.publishedAt).toBe('2020-01-01');
  });

  it('starts the Markdown with the title as a heading when the article has none of its own', () => {
    const md = clean(page(PROSE)).markdown;
    expect(md.startsWith('# Durable execution explained for everyone\n\n')).toBe(true);
    expect(md.match(/^# /gm)).toHaveLength(1);
  });

  it('writes ATX headings, lists and emphasis', () => {
    const md = clean(page(`${PROSE}<h2>Why it <em>matters</em></h2><p>${'Retries are cheap when they are safe. '.repeat(4)}</p><ul><li>first <strong>point</strong></li><li>second point</li></ul><ol><li>step one</li><li>step two</li></ol><h3>Details</h3><p>More text follows here.</p>`)).markdown;
    expect(md).toContain('## Why it _matters_');
    expect(md).toContain('### Details');
    expect(md).toMatch(/^- +first \*\*point\*\*$/m);
    expect(md).toMatch(/^1\. +step one$/m);
    expect(md).toMatch(/^2\. +step two$/m);
  });
});

describe('cleanDocument: code blocks', () => {
  it('turns <pre><code class="language-x"> into a fenced block with its language, whitespace intact', () => {
    const code = 'def retry(f):\n    for attempt in range(3):  \n\n\n\n        try:\n            return f()\n        except IOError:\n            pass';
    const md = clean(page(`${PROSE}<pre><code class="language-python">${code}</code></pre><p>That is all.</p>`)).markdown;
    expect(md).toContain('```python\n' + code + '\n```');
  });

  it('handles <pre> without <code>, <br> line breaks, highlighter wrappers and backticks inside code', () => {
    const md = clean(
      page(
        `${PROSE}<pre>plain &lt;pre&gt; line 1\nline 2 with *stars* and _underscores_</pre>
        <pre><code>first line<br>second line<br>third line</code></pre>
        <div class="highlight highlight-source-js"><pre>const a = 1;\nconst b = 2;</pre></div>
        <pre><code class="lang-md">Use \`\`\` to fence code.</code></pre>`,
      ),
    ).markdown;
    expect(md).toContain('```\nplain <pre> line 1\nline 2 with *stars* and _underscores_\n```');
    expect(md).toContain('```\nfirst line\nsecond line\nthird line\n```');
    expect(md).toContain('```js\nconst a = 1;\nconst b = 2;\n```');
    expect(md).toContain('````md\nUse ``` to fence code.\n````');
  });

  it('keeps inline code as code spans', () => {
    const md = clean(page(`${PROSE}<p>Call <code>fetch()</code> with a <code>Request</code> object.</p>`)).markdown;
    expect(md).toContain('Call `fetch()` with a `Request` object.');
  });
});

describe('cleanDocument: tables', () => {
  it('writes data tables as GFM pipe tables', () => {
    const md = clean(
      page(`${PROSE}<table><thead><tr><th>Step</th><th>Retries</th><th>Timeout</th></tr></thead><tbody>
        <tr><td>crawl</td><td>5</td><td>10 min</td></tr><tr><td>embed</td><td>3</td><td>30 min</td></tr></tbody></table>`),
    ).markdown;
    expect(md).toMatch(/^\| Step +\| Retries +\| Timeout +\|$/m);
    expect(md).toMatch(/^\| -+ \| -+ \| -+ \|$/m);
    expect(md).toMatch(/^\| crawl +\| 5 +\| 10 min +\|$/m);
    expect(md).toMatch(/^\| embed +\| 3 +\| 30 min +\|$/m);
  });

  it('flattens lists and headings inside cells so the table stays Markdown, not HTML', () => {
    const md = clean(
      page(`${PROSE}<table><tr><th>Queue</th><th>Activities</th></tr>
        <tr><td><h4>cpu</h4></td><td><ul><li>crawl</li><li>clean</li></ul></td></tr>
        <tr><td>gpu</td><td><ol><li>fine-tune</li></ol></td></tr></table>`),
    ).markdown;
    expect(md).not.toContain('<table');
    expect(md).toMatch(/^\| \*\*cpu\*\* \| • crawl<br>• clean \|$/m);
    expect(md).toMatch(/^\| gpu +\| 1\) fine-tune \|$/m);
  });
});

describe('cleanDocument: links and images', () => {
  it('makes relative links absolute against the page URL', () => {
    const md = clean(page(`${PROSE}<p>Read <a href="../guides/retries">the retry guide</a> and <a href="/about#team">the team page</a>.</p>`)).markdown;
    expect(md).toContain('[the retry guide](https://blog.example.com/guides/retries)');
    expect(md).toContain('[the team page](https://blog.example.com/about#team)');
  });

  it('resolves links against <base href> when the page has one', () => {
    const md = clean(page(`${PROSE}<p>See <a href="setup.html">setup</a>.</p>`, '<base href="https://docs.example.org/v2/">')).markdown;
    expect(md).toContain('[setup](https://docs.example.org/v2/setup.html)');
  });

  it('drops empty links, data-URI images and script links, keeps real images', () => {
    const md = clean(
      page(`${PROSE}<p>Icons: <a href="/share"></a><a href="/x"><img src="data:image/png;base64,iVBORw0KGgo="></a>
        <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="pixel">
        <a href="javascript:void(0)">open the menu</a> and <a href="#top">back to top</a>.</p>
        <p><img src="/img/diagram.png" alt="Workflow diagram"></p>`),
    ).markdown;
    expect(md).not.toContain('data:');
    expect(md).not.toContain('](https://blog.example.com/share)');
    expect(md).not.toContain('](https://blog.example.com/x)');
    expect(md).not.toContain('[]');
    expect(md).toContain('open the menu');
    expect(md).not.toContain('javascript:');
    expect(md).toContain('back to top');
    expect(md).not.toContain('(#top)');
    expect(md).toContain('![Workflow diagram](https://blog.example.com/img/diagram.png)');
  });
});

describe('a page nested too deep for the extractor', () => {
  it('is dropped at once as extraction_failed, naming the depth, instead of holding the worker for minutes', () => {
    // 3,000 nested elements took Readability 51 s; over MAX_DOM_DEPTH the page is refused before it runs.
    const body = `<p>${'Words of the article. '.repeat(40)}</p>${'<div>'.repeat(3000)}deep${'</div>'.repeat(3000)}`;
    const started = performance.now();
    const out = cleanDocument({ docId: '0'.repeat(32), sourceId: 's', sourceType: 'web', location: 'https://x.test/deep', url: 'https://x.test/deep', contentType: 'text/html', body: `<!doctype html><html><body><article>${body}</article></body></html>`, metadata: {} }, {});
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(out).toMatchObject({ ok: false, reason: 'extraction_failed' });
    expect((out as { detail: string }).detail).toMatch(/more than 1000 levels deep/);
    // A page within the limit is extracted as usual.
    const fine = cleanDocument({ docId: '0'.repeat(32), sourceId: 's', sourceType: 'web', location: 'https://x.test/ok', url: 'https://x.test/ok', contentType: 'text/html', body: `<!doctype html><html><body><article><p>${'Words of the article. '.repeat(40)}</p>${'<div>'.repeat(50)}nested${'</div>'.repeat(50)}</article></body></html>`, metadata: {} }, {});
    expect(fine.ok).toBe(true);
  });
});
