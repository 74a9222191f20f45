/**
 * The Chunk step: a clean Markdown document becomes parent sections (what retrieval hands the LLM as context) and
 * child chunks (what is embedded and searched), small-to-big.
 *
 * 1. Sections at headings, each remembering its heading path (["Guide", "Install"]); nothing is prepended to the text.
 * 2. A section longer than `parentTokens` is split into several parents, at block (paragraph, code block, table)
 *    boundaries when it can be; a block larger than a parent is cut at line or sentence ends.
 * 3. Each parent is covered by child windows of at most `chunkTokens` tokens that repeat up to `overlapTokens`
 *    tokens of the previous child, with edges snapped to sentence and line ends; a fenced code block that fits in a
 *    child is never cut (a larger one is cut at line ends). A last child that would add fewer than `minChunkTokens`
 *    new tokens is merged into the one before.
 *
 * Tokens are the embedding model's own (its tokenizer, without special tokens). Every chunk's text is exactly
 * `doc.markdown.slice(start, end)`. The result is a pure function of the markdown and the options, and sections are
 * chunked independently, so editing one section leaves the chunks (and chunk hashes) of the others unchanged: change
 * data capture and the embedding cache rely on both.
 */
import { z } from 'zod';
import type { Tokenizer } from '../embedding/types';
import { pointIdFor, sha256 } from '../hash';
import type { Chunk, CleanDocument, ParentSection } from '../schemas/documents';
import { parseBlocks, splitSections } from './markdown-sections';
import { AtomRuns, BREAK, buildAtoms, packAtoms, TokenCounter } from './pack';

/**
 * Tokens kept free below the model's maximum for the markers an encoder adds around every input ([CLS] and [SEP]
 * for BERT-style models such as MiniLM), so a full chunk is never truncated by the embedder.
 */
export const SPECIAL_TOKENS_RESERVE = 2;

const tokenCount = (name: string) =>
  z.number({ error: `${name} must be a number of tokens` }).int(`${name} must be a whole number of tokens`);

export const chunkOptionsSchema = z
  .object({
    /** Maximum tokens of a child chunk (the unit that is embedded). */
    chunkTokens: tokenCount('chunkTokens').positive('chunkTokens must be positive').default(128),
    /** Tokens a child may repeat from the end of the previous child of the same parent. */
    overlapTokens: tokenCount('overlapTokens').nonnegative('overlapTokens must not be negative').default(24),
    /** Maximum tokens of a parent section (the context handed to the LLM). */
    parentTokens: tokenCount('parentTokens').positive('parentTokens must be positive').default(512),
    /** A last child adding fewer new tokens than this is merged into the previous child. */
    minChunkTokens: tokenCount('minChunkTokens').nonnegative('minChunkTokens must not be negative').default(16),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (o.overlapTokens >= o.chunkTokens) {
      ctx.addIssue({ code: 'custom', path: ['overlapTokens'], message: `must be smaller than chunkTokens (${o.overlapTokens} >= ${o.chunkTokens})` });
    }
    if (o.parentTokens < o.chunkTokens) {
      ctx.addIssue({ code: 'custom', path: ['parentTokens'], message: `must be at least chunkTokens (${o.parentTokens} < ${o.chunkTokens})` });
    }
    if (o.minChunkTokens >= o.chunkTokens) {
      ctx.addIssue({ code: 'custom', path: ['minChunkTokens'], message: `must be smaller than chunkTokens (${o.minChunkTokens} >= ${o.chunkTokens})` });
    }
  });

/** Chunking options as callers pass them (every field optional). */
export type ChunkOptions = z.input<typeof chunkOptionsSchema>;
export type ResolvedChunkOptions = z.output<typeof chunkOptionsSchema>;

export class ChunkOptionsError extends Error {
  override name = 'ChunkOptionsError';
}

/**
 * Validates chunking options (and, given the tokenizer, that a chunk fits the model). Throws ChunkOptionsError with a
 * message naming each bad field, e.g. "Invalid chunk options: overlapTokens: must be smaller than chunkTokens (...)".
 */
export function resolveChunkOptions(opts: ChunkOptions = {}, tokenizer?: Pick<Tokenizer, 'maxTokens'>): ResolvedChunkOptions {
  const parsed = chunkOptionsSchema.safeParse(opts);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message));
    throw new ChunkOptionsError(`Invalid chunk options: ${problems.join('; ')}`);
  }
  const o = parsed.data;
  if (tokenizer) {
    const limit = tokenizer.maxTokens - SPECIAL_TOKENS_RESERVE;
    if (o.chunkTokens > limit) {
      throw new ChunkOptionsError(
        `Invalid chunk options: chunkTokens: ${o.chunkTokens} is more than the embedding model takes (${limit} = its maximum of ${tokenizer.maxTokens} tokens less ${SPECIAL_TOKENS_RESERVE} special tokens)`,
      );
    }
  }
  return o;
}

export interface ChunkedDocument {
  parents: ParentSection[];
  chunks: Chunk[];
}

export function chunkDocument(doc: Pick<CleanDocument, 'docId' | 'markdown'>, tokenizer: Tokenizer, opts: ChunkOptions = {}): ChunkedDocument {
  const o = resolveChunkOptions(opts, tokenizer);
  const markdown = doc.markdown;
  const counter = new TokenCounter(tokenizer);
  const parents: ParentSection[] = [];
  const chunks: Chunk[] = [];

  for (const section of splitSections(parseBlocks(markdown))) {
    // Parent spans: the whole section when it fits, else windows of blocks without overlap.
    const sectionRuns = new AtomRuns(markdown, buildAtoms(markdown, section.blocks, section.start, section.end, o.parentTokens, counter), counter);
    const sectionAtoms = sectionRuns.atoms;
    if (sectionAtoms.length === 0) continue;
    const sectionTokens = sectionRuns.measure(0, sectionAtoms.length);
    const spans =
      sectionTokens <= o.parentTokens
        ? [{ start: section.start, end: section.end, tokens: sectionTokens }]
        : packAtoms(sectionRuns, { budget: o.parentTokens, overlap: 0, minTail: o.minChunkTokens, maxCut: BREAK.block }).map((w) => ({
            start: sectionAtoms[w.from]!.start,
            end: sectionAtoms[w.to - 1]!.end,
            tokens: w.tokens,
          }));

    for (const span of spans) {
      const parentIndex = parents.length;
      const parentId = `${doc.docId}:p${parentIndex}`;
      parents.push({
        parentId,
        docId: doc.docId,
        parentIndex,
        headingPath: [...section.headingPath],
        text: markdown.slice(span.start, span.end),
        tokenCount: span.tokens,
      });
      // A parent that fits in one child is that child (its count is already exact); else child windows, which treat
      // block, line and sentence ends as equally good places to cut.
      let windows: { start: number; end: number; tokens: number }[];
      if (span.tokens <= o.chunkTokens) windows = [span];
      else {
        const runs = new AtomRuns(markdown, buildAtoms(markdown, section.blocks, span.start, span.end, o.chunkTokens, counter), counter);
        windows = packAtoms(runs, { budget: o.chunkTokens, overlap: o.overlapTokens, minTail: o.minChunkTokens, maxCut: BREAK.sentence }).map((w) => ({
          start: runs.atoms[w.from]!.start,
          end: runs.atoms[w.to - 1]!.end,
          tokens: w.tokens,
        }));
      }
      for (const { start, end, tokens } of windows) {
        const text = markdown.slice(start, end);
        const chunkIndex = chunks.length;
        chunks.push({
          id: pointIdFor(doc.docId, chunkIndex),
          docId: doc.docId,
          chunkIndex,
          parentId,
          headingPath: [...section.headingPath],
          text,
          tokenCount: tokens,
          chunkHash: sha256(text),
          start,
          end,
        });
      }
    }
  }
  return { parents, chunks };
}
