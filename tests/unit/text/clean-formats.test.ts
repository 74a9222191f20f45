import { describe, expect, it } from 'vitest';
import { sha256 } from '../../../lib/hash';
import type { CleanDocument } from '../../../lib/schemas/documents';
import { cleanDocument, DuplicateFilter, measureText, normalizeText, splitFrontMatter, type CleanResult } from '../../../lib/text';
import { rawDoc } from './fixtures';

const LONG_PROSE =
  'Change data capture keeps the vector store equal to its sources at the lowest cost. It compares the current state of a source with the state of the last successful sync and reprocesses only what changed.';

function ok(result: CleanResult): CleanDocument {
  if (!result.ok) throw new Error(`expected a clean document, got ${result.reason}: ${result.detail}`);
  return result.doc;
}

describe('cleanDocument: Markdown', () => {
  const md = `---
title: Sync without surprises
author: Grace Hopper
date: 2024-02-29
tags: [cdc, vector-store]
draft: false
---

# Sync without surprises

${LONG_PROSE}
`;

  it('moves YAML front matter into the document fields and keeps the body', () => {
    const doc = ok(cleanDocument(rawDoc(md, 'text/markdown', { path: 'notes/sync.md' })));
    expect(doc.title).toBe('Sync without surprises');
    expect(doc.author).toBe('Grace Hopper');
    expect(doc.publishedAt).toBe('2024-02-29');
    expect(doc.tags).toEqual(['cdc', 'vector-store']);
    expect(doc.metadata.draft).toBe(false);
    expect(doc.markdown).toBe(`# Sync without surprises\n\n${LONG_PROSE}\n`);
    expect(doc.contentHash).toBe(sha256(doc.markdown));
  });

  it('accepts comma-separated tags, keywords and a string date', () => {
    const fm = splitFrontMatter('---\ntags: a, b\nkeywords: [c]\ndate: "5 March 2021"\n---\nbody\n');
    expect(fm.frontMatter?.tags).toEqual(['a', 'b', 'c']);
    expect(fm.frontMatter?.date).toBe('5 March 2021');
    expect(fm.body).toBe('body\n');
  });

  it('leaves a leading thematic break or broken YAML alone', () => {
    expect(splitFrontMatter('---\n\nText after a rule.\n\n---\n').frontMatter).toBeUndefined();
    expect(splitFrontMatter('---\nkey: [unclosed\n---\nbody').frontMatter).toBeUndefined();
    expect(splitFrontMatter('---\nkey: [unclosed\n---\nbody').body).toBe('---\nkey: [unclosed\n---\nbody');
  });

  it('reads Markdown files reported as text/plain by their extension', () => {
    const doc = ok(cleanDocument(rawDoc(md, 'text/plain', { path: 'README.md' })));
    expect(doc.title).toBe('Sync without surprises');
    expect(doc.markdown.startsWith('# Sync')).toBe(true);
  });

  it('takes the title from the first heading, then the file name', () => {
    expect(ok(cleanDocument(rawDoc(`Intro line.\n\n# Real title\n\n${LONG_PROSE}`, 'text/markdown', { path: 'a/b.md' }))).title).toBe('Real title');
    expect(ok(cleanDocument(rawDoc(LONG_PROSE, 'text/markdown', { path: 'docs/guide.md' }))).title).toBe('guide.md');
  });
});

describe('cleanDocument: plain text and source code', () => {
  it('keeps plain text as text', () => {
    const doc = ok(cleanDocument(rawDoc(`${LONG_PROSE}\r\n\r\n\r\n\r\nSecond paragraph.   \r\n`, 'text/plain', { path: 'notes.txt' })));
    expect(doc.markdown).toBe(`${LONG_PROSE}\n\nSecond paragraph.\n`);
    expect(doc.title).toBe('notes.txt');
  });

  it('puts source code in a fenced block, labelled with its language, under a heading with its path', () => {
    const code = 'export function add(a: number, b: number): number {\n  return a + b;   \n}\n\n\n\n// the end\n';
    const doc = ok(cleanDocument(rawDoc(code, 'text/x-source', { path: 'src/math/add.ts', sourceType: 'git', language: 'typescript' })));
    expect(doc.markdown).toBe('# `src/math/add.ts`\n\n```typescript\n' + code.replace(/\n+$/, '') + '\n```\n');
    expect(doc.language).toBe('typescript');
    expect(doc.title).toBe('src/math/add.ts');
  });

  it('infers the language from the extension and uses a longer fence when the code holds one', () => {
    const code = 'DOC = """\n```python\nprint(1)\n```\n"""\nprint(DOC.strip())\n';
    const doc = ok(cleanDocument(rawDoc(code, 'text/x-source', { path: 'tools/__init__.py' })));
    expect(doc.markdown).toBe('# `tools/__init__.py`\n\n````python\n' + code.trimEnd() + '\n````\n');
  });

  it('reads JSON as code', () => {
    const doc = ok(cleanDocument(rawDoc(JSON.stringify({ name: 'twinflow', steps: ['crawl', 'clean', 'chunk'] }, null, 2), 'application/json', { path: 'package.json' })));
    expect(doc.markdown).toContain('```json\n{\n  "name": "twinflow"');
  });
});

describe('normalisation', () => {
  it('composes to NFC, drops zero-width and control characters and unifies line endings', () => {
    const out = normalizeText('Cafe\u0301 cre\u0300me\u200B bru\u0302le\u0301e\u0007\r\nnext\rline\u00AD\uFEFF\n');
    expect(out).toBe('Café crème brûlée\nnext\nline\n');
    expect(out).toBe(out.normalize('NFC'));
  });

  it('keeps compatibility characters (NFC, not NFKC) and joiners that spell words', () => {
    const text = 'x² ﬁle ½ µs ｶﾀｶﾅ\nمی‌خواهم 👩‍💻\n';
    expect(normalizeText(text)).toBe(text);
  });

  it('collapses blank lines and trailing spaces outside code blocks only', () => {
    const input = 'Title   \n\n\n\n\nText\u00A0with\u00A0no-break spaces.  \n\n```js\nconst a = 1;   \n\n\n\nconst b = 2;\t\n```   \n\n\n\nEnd\n\n\n';
    expect(normalizeText(input)).toBe('Title\n\nText with no-break spaces.\n\n```js\nconst a = 1;   \n\n\n\nconst b = 2;\t\n```\n\nEnd\n');
  });

  it('treats fences nested in list items as code', () => {
    const input = '- step:\n\n    ```sh\n    npm test   \n\n\n    npm run lint\n    ```\n';
    expect(normalizeText(input)).toBe(input);
  });

  it('is idempotent', () => {
    const samples = [
      'a\r\n\r\n\r\nb  \n```\nx  \n\n\n```\n\n\n~~~\nunclosed  \n\n\n\n',
      '\n\n\u200Bhello\u00A0 \n\n\n\n\t\n- item  \n    ```\n    code  \n    ```\n',
      'ｱｲｳ\u0065\u0301\u0000\u009F end',
      '',
    ];
    for (const s of samples) expect(normalizeText(normalizeText(s))).toBe(normalizeText(s));
  });

  it('cleaning a cleaned document again changes nothing', () => {
    const first = ok(cleanDocument(rawDoc(`<html><body><article><h1>T</h1><p>${LONG_PROSE}</p><pre><code>a  \n\n\nb</code></pre><p>${LONG_PROSE}</p></article></body></html>`, 'text/html')));
    const second = ok(cleanDocument(rawDoc(first.markdown, 'text/markdown')));
    expect(second.markdown).toBe(first.markdown);
    expect(second.contentHash).toBe(first.contentHash);
  });
});

describe('cleanDocument: what is dropped', () => {
  it('drops documents shorter than minChars, counting words and not Markdown syntax', () => {
    // Long URLs and heavy syntax, few visible characters.
    const linky = `# Links\n\n${Array.from({ length: 8 }, (_, i) => `- [x${i}](https://example.com/a/very/long/path/that/does/not/count/${i})`).join('\n')}\n`;
    expect(linky.length).toBeGreaterThan(400);
    const r = cleanDocument(rawDoc(linky, 'text/markdown'));
    expect(r).toMatchObject({ ok: false, reason: 'too_short' });
    expect(!r.ok && r.detail).toMatch(/\d+ visible characters \(\d+ words\).*minimum of 200/);
    expect(measureText(linky).chars).toBeLessThan(50);
  });

  it('keeps a short document when minChars allows it', () => {
    expect(cleanDocument(rawDoc('Short but fine.', 'text/plain'), { minChars: 10 }).ok).toBe(true);
    expect(cleanDocument(rawDoc('Short but fine.', 'text/plain'), { minChars: 100 })).toMatchObject({ ok: false, reason: 'too_short' });
  });

  it('measures CJK text by characters', () => {
    const zh = '人工智能'.repeat(60);
    expect(measureText(zh)).toEqual({ chars: 240, words: 240 });
    expect(cleanDocument(rawDoc(zh, 'text/plain')).ok).toBe(true);
  });

  it('uses a separate, lower minimum for source files', () => {
    expect(cleanDocument(rawDoc('export const answer = 42;\nexport const question = "?";\n', 'text/x-source', { path: 'a.ts' })).ok).toBe(true);
    expect(cleanDocument(rawDoc('x = 1\n', 'text/x-source', { path: 'a.py' }))).toMatchObject({ ok: false, reason: 'too_short' });
  });

  it('reports empty bodies, unsupported types and invalid documents', () => {
    expect(cleanDocument(rawDoc(' \n\t', 'text/plain'))).toMatchObject({ ok: false, reason: 'empty' });
    const pdf = cleanDocument(rawDoc('%PDF-1.7', 'application/pdf'));
    expect(pdf).toMatchObject({ ok: false, reason: 'unsupported_content_type' });
    expect(!pdf.ok && pdf.detail).toContain('application/pdf');
    const bad = cleanDocument({ ...rawDoc(LONG_PROSE, 'text/plain'), docId: '' });
    expect(bad).toMatchObject({ ok: false, reason: 'invalid_document' });
    expect(!bad.ok && bad.detail).toContain('docId');
  });

  it('reports a page with no readable content', () => {
    const r = cleanDocument(rawDoc('<html><body><nav><a href="/">Home</a></nav><script>var x = 1;</script></body></html>', 'text/html'));
    expect(r.ok).toBe(false);
    expect(!r.ok && ['no_main_content', 'too_short']).toContain(!r.ok && r.reason);
  });
});

describe('DuplicateFilter', () => {
  const doc = (docId: string, text: string): CleanDocument => ok(cleanDocument(rawDoc(`${LONG_PROSE} ${text}`, 'text/plain', { url: `https://example.com/${docId}`, docId })));

  it('keeps the first document of each text and reports later copies with the one they duplicate', () => {
    const a = doc('a', 'one');
    const b = doc('b', 'two');
    const aMirror = doc('a-mirror', 'one');
    const aPrint = doc('a-print', 'one');
    expect(aMirror.contentHash).toBe(a.contentHash);
    const filter = new DuplicateFilter();
    const { kept, dropped } = filter.filter([a, b, aMirror, aPrint]);
    expect(kept.map((d) => d.docId)).toEqual(['a', 'b']);
    expect(dropped).toEqual([
      { droppedDocId: 'a-mirror', keptDocId: 'a', contentHash: a.contentHash },
      { droppedDocId: 'a-print', keptDocId: 'a', contentHash: a.contentHash },
    ]);
    expect(filter.size).toBe(2);
  });

  it('remembers across batches and accepts hashes seen before', () => {
    const a = doc('a', 'one');
    const filter = new DuplicateFilter([[a.contentHash, 'earlier']]);
    expect(filter.check(a)).toEqual({ droppedDocId: 'a', keptDocId: 'earlier', contentHash: a.contentHash });
    expect(filter.check(doc('c', 'three'))).toBeUndefined();
  });
});
