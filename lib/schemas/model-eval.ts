/**
 * The `evaluateModel` workflow's input: evaluate models that already exist — a LoRA adapter (S3 prefix or a folder on
 * the GPU worker), merged weights, the base model alone, or any OpenAI-compatible endpoint — on one dataset version,
 * without training, and write one comparison report (table, chart, review page). No side effects: workflow code,
 * the client and the CLI import it.
 */
import { z } from 'zod';
import { baselineSchema, evaluationSchema, generationSchema, type DatasetRef, type ModelEvaluation, type ReportRef } from './train';

const slug = z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,95}$/, 'expected a name of letters, digits, ".", "_" or "-" (at most 96)');
const duration = z.union([
  z.number().int().positive(),
  z.string().regex(/^\d+(\.\d+)?\s*(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?)$/i, 'expected a duration such as "10 minutes"'),
]);

/** A model the GPU worker runs: weights (Hub id, folder, s3:// prefix) plus, for an adapter, the adapter's location. */
export const localModelSchema = z
  .object({
    /** The row label in the report. */
    name: slug,
    /** Hub id, folder on the GPU worker or s3:// prefix: the base model, or merged weights. */
    baseModel: z.string().min(1),
    /** A PEFT adapter: an s3:// prefix (e.g. a train run's …/model/adapter/) or a folder on the GPU worker. */
    adapter: z.string().min(1).optional(),
    /** Default: "adapter" with an adapter, else "base". Merged weights are "merged" (a fine-tuned row). */
    kind: z.enum(['adapter', 'merged', 'base']).optional(),
    chatTemplate: z.string().min(1).optional(),
  })
  .strict();
export type LocalModel = z.infer<typeof localModelSchema>;

export const evaluateModelInputSchema = z
  .object({
    /** The comparison's name: the report's title. */
    name: slug,
    /** A built dataset version: its manifest (`datasets/<name>/<version>/manifest.json`). */
    dataset: z.object({ manifestUri: z.string().regex(/^s3:\/\/[^/]+\/.+/, 'expected an s3://bucket/key URI') }).strict(),
    /** Models the GPU worker generates with (adapter, merged or base). */
    models: z.array(localModelSchema).max(16).default([]),
    /** OpenAI-compatible endpoints (baselines, or a served fine-tune), answered from the CPU worker. */
    endpoints: z.array(baselineSchema).max(16).default([]),
    generation: generationSchema.prefault({}),
    evaluation: z
      .object({
        useStemmer: z.boolean().default(true),
        /** The no-LLM floor rows, first in the table (train's `evaluation.floors`: the same schema and default). */
        floors: evaluationSchema.shape.floors,
        maxExamples: z.number().int().positive().optional(),
        /** Few-shot endpoints pick their worked examples from train by this seed. */
        seed: z.number().int().default(42),
      })
      .strict()
      .prefault({}),
    gpu: z
      .object({
        taskQueue: z.string().min(1).optional(),
        heartbeatTimeout: duration.default('5 minutes'),
        startToCloseTimeout: duration.default('12 hours'),
        maximumAttempts: z.number().int().positive().max(20).default(3),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .refine((c) => c.models.length + c.endpoints.length > 0, { message: 'name at least one model or endpoint to evaluate', path: ['models'] });
export type EvaluateModelInput = z.input<typeof evaluateModelInputSchema>;
export type EvaluateModelConfig = z.output<typeof evaluateModelInputSchema>;

export interface EvaluateModelProgress {
  stage: 'starting' | 'dataset' | 'generate' | 'evaluate' | 'report' | 'done';
  dataset?: { version: string; counts: DatasetRef['counts'] };
  evaluations: Array<{ model: string; rougeLsum: number | null; ratingsRmse: number | null }>;
}

export interface EvaluateModelResult {
  dataset: DatasetRef;
  evaluations: ModelEvaluation[];
  report: ReportRef;
}
