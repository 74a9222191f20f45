/**
 * The records that flow between the feature pipeline's steps (as JSON Lines in S3). Zod schemas double as the
 * TypeScript types; workflow code may import this file (it has no side effects).
 */
import { z } from 'zod';

export const sourceTypeSchema = z.enum(['web', 'git', 'folder', 's3']);
export type SourceType = z.infer<typeof sourceTypeSchema>;

/** Scalar metadata that travels from a document to its chunks and into the vector store payload. */
export const metadataValueSchema = z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]);
export const metadataSchema = z.record(z.string(), metadataValueSchema);

/** Where a document comes from: the fields a crawled document keeps through cleaning, in the same order. */
const documentOriginShape = {
  docId: z.string().min(1),
  sourceId: z.string().min(1),
  sourceType: sourceTypeSchema,
  /** Canonical URL (web), repository URL + path (git), file path (folder), s3:// URI (s3). */
  location: z.string().min(1),
  url: z.string().optional(),
  path: z.string().optional(),
};

/** A crawled document, as fetched (the raw zone: the data warehouse). */
export const rawDocumentSchema = z.object({
  ...documentOriginShape,
  title: z.string().optional(),
  author: z.string().optional(),
  publishedAt: z.string().optional(),
  /** MIME type of the body: text/html, text/markdown, text/plain, text/x-source, application/json... */
  contentType: z.string(),
  /** Programming language for source files (git), when known. */
  language: z.string().optional(),
  body: z.string(),
  metadata: metadataSchema.default({}),
});
export type RawDocument = z.infer<typeof rawDocumentSchema>;

/** A cleaned document (the cleaned zone: the feature store read by the vector store and the dataset builder). */
export const cleanDocumentSchema = z.object({
  ...documentOriginShape,
  /** Always set once cleaned (the page's or file's own title, else the file name, else the location). */
  title: z.string(),
  author: z.string().optional(),
  publishedAt: z.string().optional(),
  language: z.string().optional(),
  /** Main content as Markdown (headings, lists, code blocks and tables kept). */
  markdown: z.string(),
  /** sha256 of `markdown`: what change data capture compares. */
  contentHash: z.string().min(1),
  tags: z.array(z.string()).default([]),
  metadata: metadataSchema.default({}),
});
export type CleanDocument = z.infer<typeof cleanDocumentSchema>;

/** A parent section (small-to-big): what retrieval returns as context for its matched child chunks. */
export const parentSectionSchema = z.object({
  parentId: z.string(),
  docId: z.string(),
  parentIndex: z.number().int().nonnegative(),
  headingPath: z.array(z.string()),
  text: z.string(),
  tokenCount: z.number().int().nonnegative(),
});
export type ParentSection = z.infer<typeof parentSectionSchema>;

/** A child chunk: the unit that is embedded and searched. */
export const chunkSchema = z.object({
  /** Vector point id: UUIDv5 of docId + chunkIndex. */
  id: z.string(),
  docId: z.string(),
  chunkIndex: z.number().int().nonnegative(),
  parentId: z.string(),
  headingPath: z.array(z.string()),
  text: z.string(),
  tokenCount: z.number().int().nonnegative(),
  /** sha256 of the text that is embedded: the embedding cache key (with the model id). */
  chunkHash: z.string(),
  /** Character offsets of the chunk in the document's markdown. */
  start: z.number().int().nonnegative(),
  end: z.number().int().nonnegative(),
});
export type Chunk = z.infer<typeof chunkSchema>;
