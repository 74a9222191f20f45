/**
 * Input and result of the `ingest` workflow (the feature pipeline). The input is one JSON object, so the workflow can
 * be started from the Temporal Web UI's "Start a Workflow" form, a Schedule, the CLI or another service alike.
 */
import { z } from 'zod';
import { sourceConfigSchema } from './sources';

/** Collection names are used as table names (LanceDB) and collection names (Qdrant): keep them portable. */
export const collectionNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,62}$/, 'expected a collection name: lowercase letter first, then letters, digits, _ or - (max 63)');

/** Chunking settings (small-to-big). Part of the index identity: changing them means a rebuild. */
export const chunkingSchema = z
  .object({
    chunkTokens: z.number().int().min(16).max(8192).default(128),
    overlapTokens: z.number().int().min(0).max(4096).default(24),
    parentTokens: z.number().int().min(32).max(32768).default(512),
    minChunkTokens: z.number().int().min(1).max(1024).default(16),
  })
  .strict()
  .refine((c) => c.overlapTokens < c.chunkTokens, { message: 'overlapTokens must be smaller than chunkTokens', path: ['overlapTokens'] })
  .refine((c) => c.parentTokens >= c.chunkTokens, { message: 'parentTokens must be at least chunkTokens', path: ['parentTokens'] });
export type ChunkingOptions = z.output<typeof chunkingSchema>;

export const cleaningSchema = z
  .object({
    /** Documents with less text than this (after cleaning, markup excluded) are dropped as too short. */
    minChars: z.number().int().min(0).default(200),
  })
  .strict();
export type CleaningOptions = z.output<typeof cleaningSchema>;

/**
 * The fields every pipeline over a collection's sources takes (ingest, and sync with its own on top): one config file
 * drives ingest, sync, the schedule and push.
 */
export const pipelineInputBaseSchema = z
  .object({
    collection: collectionNameSchema.default('twinflow'),
    sources: z.array(sourceConfigSchema).min(1, 'at least one source is required'),
    chunking: chunkingSchema.prefault({}),
    cleaning: cleaningSchema.prefault({}),
    /** Documents per raw/cleaned part file: the unit of work of the clean, chunk, embed and load activities. */
    partSize: z.number().int().min(1).max(5000).default(100),
    /** Parts processed at once (bounded fan-out). */
    concurrency: z.number().int().min(1).max(64).default(4),
  })
  .strict();

/**
 * Reports every source id that an earlier source already used (the id names a source's documents, parts and state).
 * Returns id → source type, for checks that refer to sources by id.
 */
export function checkUniqueSourceIds(sources: ReadonlyArray<{ id: string; type: string }>, ctx: z.RefinementCtx): Map<string, string> {
  const byId = new Map<string, string>();
  sources.forEach((s, i) => {
    if (byId.has(s.id)) ctx.addIssue({ code: 'custom', message: `duplicate source id ${JSON.stringify(s.id)}`, path: ['sources', i, 'id'] });
    byId.set(s.id, s.type);
  });
  return byId;
}

export const ingestInputSchema = pipelineInputBaseSchema.superRefine((input, ctx) => {
  checkUniqueSourceIds(input.sources, ctx);
});
export type IngestInput = z.input<typeof ingestInputSchema>;
export type IngestParams = z.output<typeof ingestInputSchema>;

/** Counts by reason of what was not loaded (crawl failures, skips, cleaning drops). */
export type ReasonCounts = Record<string, number>;

export interface PartRef {
  uri: string;
  count: number;
}

export interface CrawlIssue {
  location: string;
  kind: 'skipped' | 'failed' | 'dropped';
  reason: string;
  detail: string;
  status?: number;
  /** A cleaning drop: the document's id (dropped documents were fetched, so they have one). */
  docId?: string;
  /** A duplicate: the docId of the document with the same content that was kept. */
  duplicateOf?: string;
}

/**
 * Whether a crawl listed its source's documents completely: every sitemap, directory, repository or prefix read, and
 * nothing cut by a limit. Only a complete listing lets a sync read a stored document's absence as a deletion.
 */
export interface ListingSummary {
  complete: boolean;
  /** Why not, one line each (the first few). */
  gaps: string[];
}

export interface SourceResult {
  sourceId: string;
  sourceType: string;
  fetched: number;
  cleaned: number;
  skipped: ReasonCounts;
  failed: ReasonCounts;
  dropped: ReasonCounts;
  rawParts: PartRef[];
  cleanedParts: PartRef[];
  reportUri: string;
  /** The cleaning drops (JSON Lines of CrawlIssue, one file per cleaned part): documents fetched but not kept. */
  dropReports: string[];
  listing: ListingSummary;
  /** The first issues, for the workflow result; the full list is in reportUri. */
  issues: CrawlIssue[];
  /** Activity time per step, in milliseconds (for the benchmark's per-step shares). */
  timingsMs: Record<string, number>;
}

export interface IngestResult {
  /** The user-facing name (an alias of physicalCollection). */
  collection: string;
  /** Where the vectors are: `<collection>__<identity hash>` (see lib/schemas/sync.ts). */
  physicalCollection?: string;
  documents: { fetched: number; cleaned: number; duplicates: number; loaded: number; skipped: ReasonCounts; failed: ReasonCounts; dropped: ReasonCounts };
  chunks: number;
  vectors: { written: number; embedded: number; reused: number };
  sources: Array<Omit<SourceResult, 'rawParts' | 'cleanedParts' | 'dropReports' | 'timingsMs'>>;
  artifacts: { manifest: string; report: string; raw: string[]; cleaned: string[] };
  timings: Record<string, number>;
}

export interface IngestProgress {
  phase: 'crawl' | 'dedupe' | 'load' | 'done';
  sources: Record<string, { phase: string; fetched: number; cleaned: number }>;
  parts: { total: number; chunked: number; embedded: number; loaded: number };
  chunks: number;
  vectors: number;
}
