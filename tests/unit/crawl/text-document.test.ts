/** lib/crawl/text-document.ts: how the folder and S3 sources read a text file. */
import { describe, expect, it } from 'vitest';
import type { RawDocument } from '../../../lib/schemas/documents';
import { applyHtmlMeta, decodeTextFile } from '../../../lib/crawl/text-document';

const bytes = (s: string, encoding: BufferEncoding = 'utf8') => new Uint8Array(Buffer.from(s, encoding));

describe('decodeTextFile', () => {
  it('takes the content type from the name and decodes UTF-8', () => {
    const f = decodeTextFile('notes/a.md', bytes('# Hyvä'));
    expect(f).toMatchObject({ contentType: 'text/markdown', isHtml: false });
    expect(f.decoded.text).toBe('# Hyvä');
  });

  it("honours an HTML file's own <meta charset>, and only for HTML", () => {
    const page = '<html><head><meta charset="windows-1252"><title>x</title></head><body>caf\xe9</body></html>';
    const html = decodeTextFile('site/index.html', bytes(page, 'latin1'));
    expect(html.isHtml).toBe(true);
    expect(html.decoded.text).toContain('café');
  });
});

describe('applyHtmlMeta', () => {
  const doc = (): RawDocument => ({ docId: 'd', sourceId: 's', sourceType: 'folder', location: 'l', contentType: 'text/html', body: '', metadata: {} }) as RawDocument;

  it("sets the title, author and date the page's head states", () => {
    const d = doc();
    applyHtmlMeta(d, '<html><head><title>T</title><meta name="author" content="Ann"><meta property="article:published_time" content="2026-01-02T03:04:05Z"></head><body></body></html>');
    expect(d.title).toBe('T');
    expect(d.author).toBe('Ann');
    expect(d.publishedAt).toMatch(/^2026-01-02/);
  });

  it('leaves the fields a page does not state', () => {
    const d = { ...doc(), title: 'kept' };
    applyHtmlMeta(d, '<html><head></head><body>no head fields</body></html>');
    expect(d.title).toBe('kept');
    expect(d.author).toBeUndefined();
  });
});
