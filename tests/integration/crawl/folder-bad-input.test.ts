/**
 * The folder source against paths and files a user gets wrong: a path that is a file, an empty folder, PDFs that are
 * encrypted, empty, truncated or not PDFs at all, a named pipe (which would block a reader forever), a text file in a
 * legacy encoding. Each is one outcome with a reason, or, for what is not a document, nothing; the other files are
 * read as usual. A real temporary folder, real files.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSource } from '../../../lib/crawl';
import { crawlAll } from './helpers';
import { makePdf } from './make-pdf';

let work: string;
let root: string;

/** A makePdf document with a Standard security handler whose user password is not empty (RC4, revision 2). */
function encryptedPdf(): Buffer {
  const hex = (n: number, seed: number) => Array.from({ length: n }, (_, i) => ((i * 37 + seed) % 256).toString(16).padStart(2, '0')).join('');
  const plain = makePdf([['Confidential minutes']]).toString('latin1');
  const encrypt = `/Encrypt << /Filter /Standard /V 1 /R 2 /Length 40 /O <${hex(32, 1)}> /U <${hex(32, 2)}> /P -4 >> /ID [<${hex(16, 3)}> <${hex(16, 3)}>] `;
  return Buffer.from(plain.replace('trailer\n<< ', `trailer\n<< ${encrypt}`), 'latin1');
}

beforeAll(() => {
  work = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-folder-bad-')));
  root = path.join(work, 'notes');
  fs.mkdirSync(root);
  fs.writeFileSync(path.join(root, 'good.md'), '# Good\n\nA note that reads fine.\n');
  fs.writeFileSync(path.join(root, 'locked.pdf'), encryptedPdf());
  fs.writeFileSync(path.join(root, 'empty.pdf'), '');
  fs.writeFileSync(path.join(root, 'truncated.pdf'), makePdf([['cut short']]).subarray(0, 200));
  fs.writeFileSync(path.join(root, 'renamed.pdf'), '<!doctype html><title>Not a PDF</title><p>saved with the wrong extension</p>');
  fs.writeFileSync(path.join(root, 'legacy.txt'), Buffer.from('Cr\xe8me br\xfbl\xe9e, \x93quoted\x94 \x80 5\n', 'latin1'));
  execFileSync('mkfifo', [path.join(root, 'pipe.md')]);
});

afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

const url = (rel: string) => pathToFileURL(path.join(root, rel)).href;

describe('folder source: bad paths and files', () => {
  it('reports a path that is a file, not a folder, as unreadable', async () => {
    const file = path.join(root, 'good.md');
    const { outcomes } = await crawlAll(createSource({ type: 'folder', id: 'x', path: file }));
    expect(outcomes).toEqual([expect.objectContaining({ kind: 'failed', reason: 'unreadable', location: pathToFileURL(file).href, detail: `folder ${file}: ${file} is not a folder` })]);
  });

  it('crawls an empty folder to nothing, without an error', async () => {
    const empty = path.join(work, 'empty');
    fs.mkdirSync(empty);
    expect((await crawlAll(createSource({ type: 'folder', id: 'x', path: empty }))).outcomes).toEqual([]);
  });

  it('reports encrypted, empty, truncated and mislabelled PDFs, ignores a named pipe, and reads the rest', async () => {
    const started = performance.now();
    const { docs, reportFor, reports } = await crawlAll(createSource({ type: 'folder', id: 'notes', path: root }));
    expect(performance.now() - started).toBeLessThan(10_000); // the FIFO is never opened (reading it would block)
    expect(docs.map((d) => d.metadata.relativePath)).toEqual(['good.md', 'legacy.txt']);
    expect(reportFor(url('locked.pdf'))).toMatchObject({ kind: 'failed', reason: 'unreadable', detail: 'the PDF is encrypted with a password' });
    expect(reportFor(url('empty.pdf'))).toMatchObject({ kind: 'failed', reason: 'unreadable', detail: 'not a readable PDF: The PDF file is empty, i.e. its size is zero bytes.' });
    expect(reportFor(url('truncated.pdf'))).toMatchObject({ kind: 'failed', reason: 'unreadable', detail: 'not a readable PDF: Invalid PDF structure.' });
    expect(reportFor(url('renamed.pdf'))).toMatchObject({ kind: 'failed', reason: 'unreadable', detail: 'not a readable PDF: Invalid PDF structure.' });
    expect(reports.map((r) => r.location)).not.toContain(url('pipe.md'));

    // No BOM, no declaration, not valid UTF-8: read as windows-1252, so no byte becomes U+FFFD.
    const legacy = docs.find((d) => d.metadata.relativePath === 'legacy.txt')!;
    expect(legacy.body).toBe('Crème brûlée, “quoted” € 5\n');
    expect(legacy.metadata.encoding).toBe('windows-1252');
  });
});
