/** The folder source over a real temporary folder: file types, binaries, symlinks in and out, limits, resume. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSource } from '../../../lib/crawl';
import { docIdFor } from '../../../lib/hash';
import { crawlAll } from './helpers';
import { makePdf } from './make-pdf';

let work: string;
let root: string;
let outside: string;

function write(rel: string, content: string | Buffer): void {
  const abs = path.join(root, rel);
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  fs.writeFileSync(abs, content);
}

beforeAll(() => {
  work = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-folder-test-')));
  root = path.join(work, 'notes');
  outside = path.join(work, 'elsewhere');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'secret.md'), '# not yours\n');
  write('a.md', '# Alpha\n\nFirst note.\n');
  write('b.txt', 'plain text\n');
  write('page.html', '<html><head><meta charset="windows-1252"><title>Caf\xe9 page</title><meta name="author" content="Jo Doe"></head><body><p>Hi</p></body></html>');
  fs.writeFileSync(path.join(root, 'page.html'), Buffer.from(fs.readFileSync(path.join(root, 'page.html'), 'utf8'), 'latin1'));
  write('sub dir/c.md', '## Gamma\n');
  write('blob.txt', Buffer.from([0x00, 0x01, 0x02, 0x03]));
  write('image.png', Buffer.from('89504e47', 'hex')); // not included by default: ignored
  write('big.md', 'x'.repeat(5000));
  write('paper.pdf', makePdf([['A study of notes', 'with two lines'], ['Page two (of two)']], { title: 'My Paper', author: 'Ann Author', created: 'D:20230405060708Z' }));
  write('scan.pdf', makePdf([[]])); // a page without text, like a scan
  write('broken.pdf', '%PDF-1.4\nnot really\n');
  write('node_modules/pkg/readme.md', '# dep\n');
  fs.symlinkSync(path.join(outside, 'secret.md'), path.join(root, 'link-out.md'));
  fs.symlinkSync(outside, path.join(root, 'dir-out'));
  fs.symlinkSync(path.join(root, 'a.md'), path.join(root, 'link-in.md'));
  fs.symlinkSync(path.join(root, 'sub dir'), path.join(root, 'dir-in'));
  fs.symlinkSync(path.join(root, 'missing.md'), path.join(root, 'broken.md'));
});

afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

const url = (rel: string, dir = false) => pathToFileURL(path.join(root, rel)).href + (dir ? '/' : '');

function source(extra: Record<string, unknown> = {}) {
  return createSource({ type: 'folder', id: 'notes', path: root, maxFileBytes: 4096, ...extra });
}

describe('folder source', () => {
  it('reads Markdown, text, HTML and PDF; reports binaries, big files, scans and symlinks out of the folder', async () => {
    const { docs, reports, outcomes } = await crawlAll(source());
    expect(docs.map((d) => d.metadata.relativePath)).toEqual(['a.md', 'b.txt', 'page.html', 'paper.pdf', 'sub dir/c.md']);
    expect(outcomes.map((o) => o.cursor)).toEqual([...outcomes.map((o) => o.cursor)].sort());

    expect(docs[0]).toMatchObject({
      docId: docIdFor(url('a.md')),
      location: url('a.md'),
      path: path.join(root, 'a.md'),
      sourceId: 'notes',
      sourceType: 'folder',
      contentType: 'text/markdown',
      body: '# Alpha\n\nFirst note.\n',
    });
    expect(docs[4]!.location).toBe(url('sub dir/c.md'));
    expect(docs[4]!.location).toContain('sub%20dir');
    expect(docs[3]).toMatchObject({
      contentType: 'text/plain',
      body: 'A study of notes\nwith two lines\n\nPage two (of two)',
      title: 'My Paper',
      author: 'Ann Author',
      publishedAt: '2023-04-05T06:07:08.000Z',
      metadata: { extractedFrom: 'application/pdf', pages: 2 },
    });
    expect(docs[2]).toMatchObject({ contentType: 'text/html', title: 'Café page', author: 'Jo Doe' });

    const why = Object.fromEntries(reports.map((r) => [r.location, `${r.kind} ${r.reason}`]));
    expect(why).toEqual({
      [url('big.md')]: 'skipped too_large',
      [url('blob.txt')]: 'skipped binary',
      [url('broken.md')]: 'failed unreadable',
      [url('broken.pdf')]: 'failed unreadable',
      [url('dir-out', true)]: 'skipped outside_root',
      [url('link-out.md')]: 'skipped outside_root',
      [url('node_modules', true)]: 'skipped excluded',
      [url('scan.pdf')]: 'skipped unsupported',
    });
    // link-in.md points at a.md, dir-in at "sub dir": each file counts once, under its real path.
    expect(docs.filter((d) => d.body.startsWith('# Alpha'))).toHaveLength(1);
  });

  it('applies include/exclude globs to paths relative to the folder (an exclude list replaces the defaults)', async () => {
    const { docs } = await crawlAll(source({ include: ['**/*.md'], exclude: ['sub dir/**'] }));
    expect(docs.map((d) => d.metadata.relativePath)).toEqual(['a.md', 'node_modules/pkg/readme.md']);
  });

  it('resumes after a cursor', async () => {
    const first = await crawlAll(source());
    const second = await crawlAll(source(), { resumeAfter: first.outcomes[4]!.cursor });
    expect(second.outcomes.map((o) => o.cursor)).toEqual(first.outcomes.slice(5).map((o) => o.cursor));
  });

  it('reports a folder that does not exist', async () => {
    const missing = path.join(work, 'nope');
    const { outcomes } = await crawlAll(createSource({ type: 'folder', id: 'x', path: missing }));
    expect(outcomes).toEqual([expect.objectContaining({ kind: 'failed', reason: 'not_found', location: pathToFileURL(missing).href })]);
  });
});
