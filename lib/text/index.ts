/** Text building blocks of the feature pipeline: Clean (raw → clean Markdown) and Chunk (Markdown → parents + chunks). */
export { cleanDocument, cleanOptionsSchema, type CleanOptions, type CleanResult, type CleanFailureReason } from './clean';
export { detectJunk, JUNK_KINDS, MAX_TEXT_CHARS, type JunkKind, type JunkInput, type JunkVerdict } from './junk';
export { DuplicateFilter, type DuplicateReport } from './duplicates';
export { normalizeText, normalizeCharacters } from './normalize';
export { splitFrontMatter, type FrontMatter } from './front-matter';
export { extractHtml, type HtmlExtraction } from './extract-html';
export { htmlToMarkdown } from './html-to-markdown';
export type { PageMetadata } from './html-metadata';
export { visibleText, measureText, type TextSize } from './visible-text';
export { classifyContentType, languageFromPath, type ContentKind } from './content-types';
export {
  chunkDocument,
  chunkOptionsSchema,
  resolveChunkOptions,
  ChunkOptionsError,
  SPECIAL_TOKENS_RESERVE,
  type ChunkOptions,
  type ResolvedChunkOptions,
  type ChunkedDocument,
} from './chunk';
export { parseBlocks, splitSections, type Block, type Section } from './markdown-sections';
export { loadTokenizer, ModelTokenizer, TokenizerNotFoundError, type LoadTokenizerOptions } from './tokenizer';
