/** Input and result of the `evalRetrieval` workflow (retrieval evaluation of big labelled query sets). */
import { z } from 'zod';
import { collectionNameSchema } from './ingest';

const positiveInt = z.number().int().positive();

export const retrievalEvalInputSchema = z
  .object({
    /** The labelled query set, JSON Lines (rag/eval/queries.ts): an s3:// URI or a key in the artifact bucket. */
    queries: z.string().min(1, 'expected an s3:// URI or key of a JSON Lines query set'),
    /** Collections to evaluate; default RAG_COLLECTIONS of the worker. */
    collections: z.array(collectionNameSchema).min(1).optional(),
    /** Configurations by name (rag/eval/retrieval.ts standardConfigs); default all. */
    configs: z.array(z.string().min(1)).min(1).optional(),
    /** Chunks retrieved per query. */
    depth: positiveInt.max(1000).default(30),
    /** Reformulations in the expansion configurations. */
    expansion: positiveInt.max(20).default(3),
    /** Queries per activity: each batch is one activity, retried on its own. */
    batchSize: positiveInt.max(10_000).default(200),
    /** Batches evaluated at once (across the workers of the task queue). */
    concurrency: positiveInt.max(64).default(2),
    /** Where the batches, partial results and the report go; default eval/retrieval/<workflow id>. */
    outPrefix: z
      .string()
      .regex(/^[A-Za-z0-9!_.*'()/-]+$/, 'expected an S3 key prefix')
      .optional(),
  })
  .strict();

export type RetrievalEvalInput = z.input<typeof retrievalEvalInputSchema>;
export type RetrievalEvalParams = z.output<typeof retrievalEvalInputSchema>;

export interface RetrievalEvalSummary {
  name: string;
  skipped?: string;
  mrr?: number;
  ndcg10?: number;
  recall10?: number;
}

export interface RetrievalEvalResult {
  queries: number;
  batches: number;
  markdownUri: string;
  jsonUri: string;
  configs: RetrievalEvalSummary[];
  warnings: string[];
}

export interface RetrievalEvalProgress {
  batches: number;
  done: number;
}
