import { beforeAll, describe, expect, it } from 'vitest';
import type { Tokenizer } from '../../../lib/embedding/types';
import { pointIdFor, sha256 } from '../../../lib/hash';
import type { Chunk, ParentSection } from '../../../lib/schemas/documents';
import { chunkDocument, ChunkOptionsError, chunkOptionsSchema, loadTokenizer, resolveChunkOptions, type ChunkOptions, type ModelTokenizer } from '../../../lib/text';
import { MODEL_NAME, modelsDir } from './fixtures';

let tok: ModelTokenizer;
beforeAll(async () => {
  tok = await loadTokenizer(MODEL_NAME, { modelsDir: modelsDir() });
});

const SENTENCES = [
  'Temporal records every step of a workflow in its history.',
  'A worker that crashes loses nothing, because another worker replays the history and carries on.',
  'Activities hold the side effects: network calls, file writes and model inference.',
  'Each activity is retried with exponential backoff until it succeeds or its retry policy gives up.',
  'Heartbeats tell the server that a long activity is still alive and record how far it got.',
  'On a retry, the activity reads its last heartbeat details and resumes from that point.',
  'Workflow code must be deterministic, so it never reads the clock or a random number directly.',
  'Large payloads go to S3 and only their keys travel through the history.',
  'Child workflows split a big job into pieces that each keep a small history.',
  'Continue-as-new starts a fresh history when the old one grows too long.',
];

/** Deterministic prose: `n` sentences drawn from SENTENCES, starting at `offset`. */
function prose(n: number, offset = 0): string {
  return Array.from({ length: n }, (_, i) => SENTENCES[(i + offset) % SENTENCES.length]).join(' ');
}

function paragraphs(count: number, sentencesEach: number, offset = 0): string {
  return Array.from({ length: count }, (_, i) => prose(sentencesEach, offset + i * 3)).join('\n\n');
}

const CODE_SMALL = ['```ts', 'export async function retry<T>(fn: () => Promise<T>, attempts = 3): Promise<T> {', '  let last: unknown;', '  for (let i = 0; i < attempts; i++) {', '    try {', '      return await fn();', '    } catch (err) {', '      last = err;', '    }', '  }', '  throw last;', '}', '```'].join('\n');

function bigCode(lines: number): string {
  const body = Array.from({ length: lines }, (_, i) => `const value${i} = compute(${i}, "step ${i}") + offset; // line ${i}`);
  return ['```js', ...body, '```'].join('\n');
}

/** A multi-section guide: five sections, the third with the paragraph a test edits, the fourth too big for one parent. */
function guide(editedParagraph = prose(4, 5)): string {
  return [
    '# Guide',
    '',
    '## Install',
    '',
    paragraphs(2, 4, 0),
    '',
    '### Linux',
    '',
    paragraphs(2, 3, 1),
    '',
    '## Configure',
    '',
    paragraphs(1, 4, 2),
    '',
    editedParagraph,
    '',
    paragraphs(1, 4, 4),
    '',
    '## Run',
    '',
    paragraphs(8, 6, 3),
    '',
    CODE_SMALL,
    '',
    paragraphs(3, 5, 6),
    '',
    '## Troubleshoot',
    '',
    paragraphs(2, 4, 7),
    '',
  ].join('\n');
}

const doc = (markdown: string, docId = 'doc-1') => ({ docId, markdown });

/** Every invariant a chunked document must hold, whatever its content. */
function checkInvariants(markdown: string, docId: string, parents: ParentSection[], chunks: Chunk[], opts: ChunkOptions, tokenizer: Tokenizer = tok): void {
  const o = resolveChunkOptions(opts);
  parents.forEach((p, i) => {
    expect(p.parentIndex).toBe(i);
    expect(p.parentId).toBe(`${docId}:p${i}`);
    expect(p.text.trim()).not.toBe('');
    expect(p.tokenCount).toBe(tokenizer.count(p.text));
    expect(p.tokenCount).toBeLessThanOrEqual(o.parentTokens);
  });
  const parentById = new Map(parents.map((p) => [p.parentId, p]));
  chunks.forEach((c, i) => {
    expect(c.chunkIndex).toBe(i);
    expect(c.id).toBe(pointIdFor(docId, i));
    expect(c.text).toBe(markdown.slice(c.start, c.end));
    expect(c.text.trim()).toBe(c.text);
    expect(c.text).not.toBe('');
    expect(c.chunkHash).toBe(sha256(c.text));
    expect(c.tokenCount).toBe(tokenizer.count(c.text));
    expect(c.tokenCount).toBeLessThanOrEqual(o.chunkTokens);
    const parent = parentById.get(c.parentId)!;
    expect(parent).toBeDefined();
    expect(parent.text).toContain(c.text);
    expect(c.headingPath).toEqual(parent.headingPath);
    if (i > 0) expect(c.start).toBeGreaterThan(chunks[i - 1]!.start);
  });
  // Together the chunks cover every non-blank character of the document.
  const covered = new Uint8Array(markdown.length);
  for (const c of chunks) covered.fill(1, c.start, c.end);
  for (let k = 0; k < markdown.length; k++) if (!covered[k] && markdown[k]!.trim() !== '') throw new Error(`character ${k} (${JSON.stringify(markdown.slice(k, k + 20))}) is in no chunk`);
}

describe('chunkOptionsSchema', () => {
  it('has the documented defaults', () => {
    expect(chunkOptionsSchema.parse({})).toEqual({ chunkTokens: 128, overlapTokens: 24, parentTokens: 512, minChunkTokens: 16 });
  });

  it.each<[ChunkOptions, RegExp]>([
    [{ overlapTokens: 128 }, /overlapTokens: must be smaller than chunkTokens \(128 >= 128\)/],
    [{ chunkTokens: 64, overlapTokens: 80 }, /overlapTokens: must be smaller than chunkTokens/],
    [{ chunkTokens: 256, parentTokens: 200 }, /parentTokens: must be at least chunkTokens/],
    [{ minChunkTokens: 200 }, /minChunkTokens: must be smaller than chunkTokens/],
    [{ chunkTokens: 12.5 }, /chunkTokens: chunkTokens must be a whole number of tokens/],
    [{ chunkTokens: -1 }, /chunkTokens: chunkTokens must be positive/],
    [{ chunkSize: 100 } as ChunkOptions, /chunkSize/],
  ])('rejects %j naming the field', (opts, message) => {
    expect(() => resolveChunkOptions(opts)).toThrow(ChunkOptionsError);
    expect(() => resolveChunkOptions(opts)).toThrow(message);
  });

  it('rejects a chunk size the embedding model cannot take', () => {
    // MiniLM's window is sentence-transformers' max_seq_length, 256: 254 tokens and [CLS]/[SEP].
    expect(() => chunkDocument(doc('text'), tok, { chunkTokens: 255, parentTokens: 1024 })).toThrow(/chunkTokens: 255 is more than the embedding model takes \(254/);
    expect(() => chunkDocument(doc('text'), tok, { chunkTokens: 254, parentTokens: 1024 })).not.toThrow();
  });
});

describe('chunkDocument: structure', () => {
  it('records heading paths and keeps heading-only sections with their first sub-section', () => {
    const md = `Preamble before any heading. ${prose(2)}\n\n# Guide\n\n## Install\n\n${prose(3)}\n\n### Linux\n\n${prose(2)}\n\n## Usage\n\n${prose(2)}\n`;
    const { parents, chunks } = chunkDocument(doc(md), tok);
    expect(parents.map((p) => p.headingPath)).toEqual([[], ['Guide', 'Install'], ['Guide', 'Install', 'Linux'], ['Guide', 'Usage']]);
    expect(parents[1]!.text.startsWith('# Guide\n\n## Install\n\n')).toBe(true);
    expect(chunks.map((c) => c.headingPath)).toEqual(parents.map((p) => p.headingPath));
    checkInvariants(md, 'doc-1', parents, chunks, {});
  });

  it('reads setext headings and strips inline syntax from heading text', () => {
    const md = `Setup **guide**\n===\n\n${prose(2)}\n\n## The [\`retry\`](https://x.dev/retry) _helper_ ##\n\n${prose(2)}\n`;
    const { parents } = chunkDocument(doc(md), tok);
    expect(parents.map((p) => p.headingPath)).toEqual([['Setup guide'], ['Setup guide', 'The retry helper']]);
  });

  it('splits a section larger than a parent at paragraph boundaries', () => {
    const md = guide();
    const { parents, chunks } = chunkDocument(doc(md), tok);
    const run = parents.filter((p) => p.headingPath.join('/') === 'Guide/Run');
    expect(run.length).toBeGreaterThan(1);
    for (const p of run) {
      const at = md.indexOf(p.text);
      // Each parent starts where a block starts (after a blank line) and ends where one ends.
      expect(at === 0 || md.slice(at - 2, at) === '\n\n').toBe(true);
      expect(['\n\n', '\n']).toContain(md.slice(at + p.text.length, at + p.text.length + 2).replace(/^\n(?!\n).*/s, '\n'));
    }
    checkInvariants(md, 'doc-1', parents, chunks, {});
  });

  it('never cuts a code block that fits in a chunk', () => {
    const md = guide();
    const { chunks } = chunkDocument(doc(md), tok);
    expect(chunks.some((c) => c.text.includes(CODE_SMALL))).toBe(true);
    // No chunk starts or ends inside it.
    const start = md.indexOf(CODE_SMALL);
    const end = start + CODE_SMALL.length;
    for (const c of chunks) {
      expect(c.start > start && c.start < end, `chunk ${c.chunkIndex} starts inside the code block`).toBe(false);
      expect(c.end > start && c.end < end, `chunk ${c.chunkIndex} ends inside the code block`).toBe(false);
    }
  });

  it('cuts a code block larger than a chunk at line ends', () => {
    const code = bigCode(40);
    const md = `# Code\n\n${prose(2)}\n\n${code}\n\n${prose(2)}\n`;
    const { parents, chunks } = chunkDocument(doc(md), tok);
    const start = md.indexOf(code);
    const end = start + code.length;
    const inside = chunks.filter((c) => c.end > start && c.start < end);
    expect(inside.length).toBeGreaterThan(2);
    for (const c of inside) {
      if (c.end < end) expect(md[c.end], `chunk ${c.chunkIndex} ends mid-line`).toBe('\n');
      if (c.start > start) expect(md[c.start - 1], `chunk ${c.chunkIndex} starts mid-line`).toBe('\n');
    }
    checkInvariants(md, 'doc-1', parents, chunks, {});
  });

  it('works on an empty document and on a lone heading', () => {
    expect(chunkDocument(doc(''), tok)).toEqual({ parents: [], chunks: [] });
    const { parents, chunks } = chunkDocument(doc('# Only a title\n'), tok);
    expect(chunks.map((c) => [c.text, c.headingPath])).toEqual([['# Only a title', ['Only a title']]]);
    expect(parents).toHaveLength(1);
  });
});

describe('chunkDocument: windows', () => {
  it('keeps every chunk within chunkTokens, measured with the MiniLM tokenizer', () => {
    for (const opts of [{}, { chunkTokens: 64, overlapTokens: 8, parentTokens: 256 }, { chunkTokens: 254, overlapTokens: 64, parentTokens: 1024, minChunkTokens: 32 }]) {
      const md = guide();
      const { parents, chunks } = chunkDocument(doc(md), tok, opts);
      checkInvariants(md, 'doc-1', parents, chunks, opts);
    }
  });

  it('overlaps consecutive chunks of a parent by at most overlapTokens, starting at a word', () => {
    const md = `# Prose\n\n${paragraphs(1, 20)}\n`;
    const { parents, chunks } = chunkDocument(doc(md), tok);
    expect(parents).toHaveLength(1);
    expect(chunks.length).toBeGreaterThan(3);
    for (let i = 1; i < chunks.length; i++) {
      const [prev, next] = [chunks[i - 1]!, chunks[i]!];
      expect(next.start, `chunk ${i} should overlap the previous one`).toBeLessThan(prev.end);
      expect(next.end).toBeGreaterThan(prev.end);
      const repeated = tok.count(md.slice(next.start, prev.end));
      expect(repeated).toBeGreaterThan(0);
      expect(repeated).toBeLessThanOrEqual(24);
      expect(md[next.start - 1]).toMatch(/\s/);
    }
  });

  it('ends windows at sentence ends in prose', () => {
    const md = `# Prose\n\n${paragraphs(1, 30)}\n`;
    const { chunks } = chunkDocument(doc(md), tok, { overlapTokens: 0 });
    for (const c of chunks) expect(c.text).toMatch(/[.!?]$/);
    // Without overlap the windows tile the text exactly.
    for (let i = 1; i < chunks.length; i++) expect(md.slice(chunks[i - 1]!.end, chunks[i]!.start)).toBe(' ');
  });

  it.each([0, 8])('leaves no tiny last chunk (overlap %i)', (overlapTokens) => {
    const opts = { chunkTokens: 64, overlapTokens, minChunkTokens: 16 };
    for (let extra = 0; extra < 12; extra++) {
      const md = `${prose(6)} Tail${' word'.repeat(extra)}.`;
      const { parents, chunks } = chunkDocument(doc(md), tok, opts);
      expect(chunks.length).toBeGreaterThan(1);
      const last = chunks[chunks.length - 1]!;
      expect(last.tokenCount, `tail with ${extra} extra words`).toBeGreaterThanOrEqual(16);
      expect(last.text.endsWith(`Tail${' word'.repeat(extra)}.`)).toBe(true);
      checkInvariants(md, 'doc-1', parents, chunks, opts);
    }
  });

  it('gives the same chunks for the same document and options', () => {
    const a = chunkDocument(doc(guide()), tok);
    const b = chunkDocument(doc(guide()), tok);
    expect(b).toEqual(a);
  });

  it('editing a paragraph of one section leaves the chunks of the other sections unchanged', () => {
    const before = chunkDocument(doc(guide()), tok);
    const after = chunkDocument(doc(guide(`${prose(3, 1)} This sentence was added in an edit of the configuration section.`)), tok);
    const hashesIn = (chunks: Chunk[], section: string) => chunks.filter((c) => c.headingPath[1] === section).map((c) => c.chunkHash);
    for (const section of ['Install', 'Run', 'Troubleshoot']) {
      expect(hashesIn(after.chunks, section).length).toBeGreaterThan(0);
      expect(hashesIn(after.chunks, section), section).toEqual(hashesIn(before.chunks, section));
    }
    expect(hashesIn(after.chunks, 'Configure')).not.toEqual(hashesIn(before.chunks, 'Configure'));
    // Sections before the edit also keep their point ids (chunk indexes do not move).
    const idsBefore = before.chunks.filter((c) => c.headingPath[1] === 'Install').map((c) => c.id);
    expect(after.chunks.filter((c) => c.headingPath[1] === 'Install').map((c) => c.id)).toEqual(idsBefore);
  });
});

describe('chunkDocument: tokenizers that do not add up', () => {
  it('gives the same chunks when MiniLM is measured window by window instead of summed', () => {
    const measured: Tokenizer = { encode: (t) => tok.encode(t), decode: (ids) => tok.decode(ids), count: (t) => tok.count(t), maxTokens: tok.maxTokens };
    const md = guide();
    expect(chunkDocument(doc(md), measured)).toEqual(chunkDocument(doc(md), tok));
  });

  it('holds the budget for a tokenizer whose whole text counts more than its words', () => {
    // Counts every character, whitespace included, in threes: windows are larger than the sum of their words.
    const chars: Tokenizer = {
      encode: (t) => Array.from({ length: Math.ceil(t.length / 3) }, (_, i) => i),
      decode: () => '',
      count: (t) => Math.ceil(t.length / 3),
      maxTokens: 4096,
    };
    const md = guide() + `\n\n${'x'.repeat(2000)}\n`;
    const opts = { chunkTokens: 100, overlapTokens: 20, parentTokens: 400 };
    const { parents, chunks } = chunkDocument(doc(md), chars, opts);
    checkInvariants(md, 'doc-1', parents, chunks, opts, chars);
  });
});
