/**
 * Clean then chunk all 49 real web pages with MiniLM's tokenizer: every invariant of the chunker holds on real
 * content (news, wikis with tables, docs with code, Chinese and French pages), not only on the hand-written inputs.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../../lib/hash';
import type { Chunk, CleanDocument, ParentSection } from '../../../lib/schemas/documents';
import { chunkDocument, cleanDocument, loadTokenizer, type ModelTokenizer } from '../../../lib/text';
import { loadWebPages, MODEL_NAME, modelsDir, rawWebPage } from './fixtures';

interface Chunked {
  doc: CleanDocument;
  parents: ParentSection[];
  chunks: Chunk[];
}

let tok: ModelTokenizer;
const chunked: Chunked[] = [];

beforeAll(async () => {
  tok = await loadTokenizer(MODEL_NAME, { modelsDir: modelsDir() });
  const docs: CleanDocument[] = [];
  for (const page of loadWebPages()) {
    // No minimum length: the two near-empty test stubs are chunked too.
    const r = cleanDocument(rawWebPage(page.name, page.html), { minChars: 0 });
    if (!r.ok) throw new Error(`${page.name} did not clean: ${r.reason}: ${r.detail}`);
    docs.push(r.doc);
  }
  const started = performance.now();
  for (const doc of docs) chunked.push({ doc, ...chunkDocument(doc, tok) });
  const seconds = (performance.now() - started) / 1000;
  const chunks = chunked.reduce((n, c) => n + c.chunks.length, 0);
  console.log(`chunk throughput: ${docs.length} documents, ${chunks} chunks in ${seconds.toFixed(2)} s = ${(chunks / seconds).toFixed(0)} chunks/s`);
  // The whole corpus is cleaned and chunked here; the limit leaves room for a machine shared with other builds.
}, 120_000);

describe('chunkDocument on the 49 cleaned web pages', () => {
  it('chunks every page', () => {
    expect(chunked).toHaveLength(49);
    for (const { doc, chunks } of chunked) expect(chunks.length, doc.location).toBeGreaterThan(0);
  });

  it('keeps every invariant: offsets, hashes, ids, parents, no empty chunk', () => {
    for (const { doc, parents, chunks } of chunked) {
      const parentById = new Map(parents.map((p) => [p.parentId, p]));
      chunks.forEach((c, i) => {
        expect(c.chunkIndex).toBe(i);
        expect(c.docId).toBe(doc.docId);
        expect(c.text).toBe(doc.markdown.slice(c.start, c.end));
        expect(c.text.trim(), `${doc.location} chunk ${i}`).not.toBe('');
        expect(c.chunkHash).toBe(sha256(c.text));
        const parent = parentById.get(c.parentId);
        expect(parent?.text.includes(c.text), `${doc.location} chunk ${i} is not in its parent`).toBe(true);
        expect(c.headingPath).toEqual(parent!.headingPath);
      });
      for (const p of parents) expect(p.tokenCount, `${doc.location} ${p.parentId}`).toBeLessThanOrEqual(512);
    }
  });

  it('keeps every chunk within 128 MiniLM tokens, as the tokenizer counts the chunk text', () => {
    let largest = 0;
    for (const { doc, chunks } of chunked) {
      for (const c of chunks) {
        const real = tok.count(c.text);
        expect(c.tokenCount, `${doc.location} chunk ${c.chunkIndex}`).toBe(real);
        expect(real, `${doc.location} chunk ${c.chunkIndex}`).toBeLessThanOrEqual(128);
        largest = Math.max(largest, real);
      }
    }
    expect(largest).toBe(128);
  });

  it('keeps fenced code blocks that fit in a chunk whole', () => {
    let checked = 0;
    for (const { doc, chunks } of chunked) {
      for (const m of doc.markdown.matchAll(/^```[^\n]*\n[\s\S]*?\n```$/gm)) {
        if (tok.count(m[0]) > 128) continue;
        checked++;
        const [start, end] = [m.index, m.index + m[0].length];
        expect(chunks.some((c) => c.start <= start && c.end >= end), `${doc.location}: code block at ${start} is cut`).toBe(true);
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('overlaps most consecutive chunks of a parent (all but those separated by a code block or a long link)', () => {
    let pairs = 0;
    let overlapping = 0;
    for (const { doc, chunks } of chunked) {
      for (let i = 1; i < chunks.length; i++) {
        const [prev, next] = [chunks[i - 1]!, chunks[i]!];
        if (next.parentId !== prev.parentId) continue;
        pairs++;
        if (next.start >= prev.end) continue;
        overlapping++;
        const repeated = tok.count(doc.markdown.slice(next.start, prev.end));
        const lastOfParent = chunks[i + 1]?.parentId !== next.parentId;
        if (repeated > 24) {
          // Only a parent's last chunk may repeat more: one that would add fewer than minChunkTokens new tokens is
          // widened into a full window instead of being left tiny.
          expect(lastOfParent, `${doc.location} chunk ${i} repeats ${repeated} tokens`).toBe(true);
          expect(tok.count(doc.markdown.slice(prev.end, next.end))).toBeLessThan(16);
        }
      }
    }
    console.log(`overlap: ${overlapping} of ${pairs} consecutive pairs`);
    expect(overlapping / pairs).toBeGreaterThan(0.85);
  });
});
