/**
 * The `train` workflow's input (one JSON object: dataset → fine-tune → generate → evaluate → publish) and the small
 * records its steps pass each other. Zod schemas double as types; this file has no side effects, so workflow code,
 * the client and the CLI import it.
 *
 * Secrets never appear here: API keys and the Hugging Face token come from the workers' environment.
 */
import { z } from 'zod';
import { ENDPOINT_URL_CREDENTIALS, urlCredentials } from './url-credentials';
import { type DpoMetrics, dpoSchema } from './dpo';
import { isWorkerCredential, workerCredentialMessage } from '../security/secrets';

const slug = z
  .string()
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,95}$/, 'expected a name of letters, digits, ".", "_" or "-" (at most 96)');
const s3UriSchema = z.string().regex(/^s3:\/\/[^/]+\/.+/, 'expected an s3://bucket/key URI');
/** A Temporal duration: a number of milliseconds or an ms-style string ("90s", "10 minutes", "2h"). */
const duration = z.union([
  z.number().int().positive(),
  z.string().regex(/^\d+(\.\d+)?\s*(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?)$/i, 'expected a duration such as "10 minutes"'),
]);

// ------------------------------------------------------------------------------------------------ output format

export const ratingsFormatSchema = z
  .object({
    /** Rating names, in the order they are written. */
    keys: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an identifier')).min(1),
    min: z.number().default(1),
    max: z.number().default(5),
    /** The line prefix that introduces the ratings JSON. */
    marker: z.string().min(1).default('Ratings:'),
  })
  .strict()
  .refine((r) => r.max > r.min, { message: 'max must be greater than min', path: ['max'] });

export const outputFormatSchema = z
  .object({
    /** Absent: the output is plain text (ROUGE only). */
    ratings: ratingsFormatSchema.optional(),
  })
  .strict();
export type OutputFormat = z.infer<typeof outputFormatSchema>;
export type RatingsFormat = z.infer<typeof ratingsFormatSchema>;

// ------------------------------------------------------------------------------------------------ dataset

/** An OpenAI-compatible endpoint. The key is read on the worker from `apiKeyEnv` (default LLM_API_KEY). */
export const llmEndpointSchema = z
  .object({
    model: z.string().min(1),
    /** Default: the worker's LLM_BASE_URL. */
    baseUrl: z
      .url()
      .refine((v) => urlCredentials(v) === undefined, ENDPOINT_URL_CREDENTIALS)
      .optional(),
    /**
     * Name of the worker environment variable that holds the API key (never the key itself): one the worker declares
     * in TWINFLOW_API_KEYS (or LLM_API_KEY), whose key goes only to the base URL declared with it. The worker's own
     * credentials (HF_TOKEN, AWS_*, ...) are refused here already.
     */
    apiKeyEnv: z
      .string()
      .regex(/^[A-Z][A-Z0-9_]*$/, 'expected an environment variable name')
      .superRefine((name, ctx) => {
        if (isWorkerCredential(name)) ctx.addIssue({ code: 'custom', message: workerCredentialMessage(name) });
      })
      .optional(),
    maxConcurrency: z.number().int().positive().max(64).default(4),
    requestsPerMinute: z.number().positive().optional(),
    temperature: z.number().min(0).max(2).default(0),
    maxTokens: z.number().int().positive().default(1024),
  })
  .strict();
export type LlmEndpoint = z.infer<typeof llmEndpointSchema>;

export const recordsSourceSchema = z
  .object({
    kind: z.literal('records'),
    /** s3://bucket/key or a path readable by the CPU worker. */
    uri: z.string().min(1),
    format: z.enum(['auto', 'jsonl', 'csv']).default('auto'),
    /** Field that identifies a record (default: the hash of the record). */
    idField: z.string().min(1).optional(),
    template: z
      .object({
        /** Templates use {{field}} placeholders (dotted paths allowed); a missing field is an error for that record. */
        system: z.string().optional(),
        user: z.string().min(1),
        /** The text part of the assistant turn, e.g. "{{review}}". */
        response: z.string().min(1),
        /** Rating name → record field; by default each rating is read from the field of the same name. */
        ratingFields: z.record(z.string(), z.string().min(1)).optional(),
      })
      .strict(),
  })
  .strict();

export const documentsSourceSchema = z
  .object({
    kind: z.literal('documents'),
    /** JSON Lines of CleanDocument (the feature store's cleaned zone). */
    uri: s3UriSchema,
    teacher: llmEndpointSchema,
    pairsPerDocument: z.number().int().positive().max(20).default(3),
    maxDocuments: z.number().int().positive().optional(),
    /** Documents are cut into windows of this many characters; each window yields `pairsPerDocument` pairs. */
    maxCharsPerWindow: z.number().int().min(200).default(6000),
    /** The system prompt of the generated training conversations. */
    system: z.string().default('You are a helpful assistant that writes in the style of the author.'),
  })
  .strict();

export const datasetSpecSchema = z
  .object({
    name: slug,
    source: z.discriminatedUnion('kind', [recordsSourceSchema, documentsSourceSchema]),
    format: outputFormatSchema.prefault({}),
    split: z
      .object({
        validation: z.number().min(0).max(0.5).default(0.1),
        test: z.number().min(0).max(0.5).default(0.1),
        seed: z.number().int().default(42),
        /**
         * Examples of one group land in one split (activities/dataset/split.ts). A records field (dotted path, e.g.
         * "company"), or absent: the example's source (the record id, or the document a teacher pair came from).
         */
        groupBy: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'expected a field name (dotted path allowed)').optional(),
      })
      .strict()
      .prefault({}),
    /** n-gram decontamination of the test split against train (activities/dataset/decontaminate.ts). */
    decontaminate: z
      .object({
        enabled: z.boolean().default(true),
        /** Word n-gram length; 13 as in the GPT-3 paper's contamination analysis. */
        n: z.number().int().min(3).max(50).default(13),
        /** "drop": contaminated test examples are removed; "report": kept and counted on the card. */
        action: z.enum(['drop', 'report']).default('drop'),
      })
      .strict()
      .prefault({}),
    dedupe: z
      .object({
        exact: z.boolean().default(true),
        near: z.boolean().default(true),
        /** Estimated Jaccard similarity of word shingles above which two examples are near-duplicates. */
        threshold: z.number().gt(0).max(1).default(0.8),
        shingleSize: z.number().int().min(1).max(10).default(3),
        numPermutations: z.number().int().min(16).max(512).default(128),
      })
      .strict()
      .prefault({}),
    /** Examples longer than this (in tokens of `tokenizer`, chat template applied) are dropped. */
    maxSeqLength: z.number().int().positive().optional(),
    /** Tokenizer for the length filter: a local folder on the CPU worker or a hub id; default the base model. */
    tokenizer: z.string().min(1).optional(),
  })
  .strict();
export type DatasetSpec = z.infer<typeof datasetSpecSchema>;
export type DatasetSpecInput = z.input<typeof datasetSpecSchema>;

/** One training conversation as stored in a split (the trainer reads `messages`). */
export const chatMessageSchema = z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string() }).strict();
export const exampleSchema = z.object({
  id: z.string().min(1),
  messages: z.array(chatMessageSchema).min(2),
  /** Where the example came from (record id or document id). */
  source: z.string().optional(),
  /** The split group (split.groupBy's value; absent: `source`). */
  group: z.string().optional(),
});
export type ChatMessage = z.infer<typeof chatMessageSchema>;
export type Example = z.infer<typeof exampleSchema>;

export interface TokenLengthStats {
  count: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
}

export interface DatasetStats {
  input: number;
  invalid: number;
  exactDuplicates: number;
  nearDuplicates: number;
  tooLong: number;
  kept: number;
  /** Test examples sharing a word n-gram with train (before `action`), and how many were dropped. */
  decontamination?: { n: number; action: 'drop' | 'report'; contaminated: number; dropped: number; ids: string[] };
  /** Groups the split kept whole. */
  groups?: number;
  splits: { train: number; validation: number; test: number };
  tokens: TokenLengthStats;
  tokenizer: string;
  teacher?: { requests: number; promptTokens: number; completionTokens: number; costUsd: number; failedWindows: number; cacheHits: number };
}

/** What the dataset step returns and what later steps read: URIs and counts only. */
export interface DatasetRef {
  name: string;
  version: string;
  manifestUri: string;
  trainUri: string;
  validationUri: string;
  testUri: string;
  cardUri: string;
  statsUri: string;
  counts: { train: number; validation: number; test: number };
  format: OutputFormat;
}

export interface DatasetManifest extends DatasetRef {
  spec: DatasetSpec;
  stats: DatasetStats;
  lineage: { workflowId?: string; runId?: string; sourceUri: string; sourceHash: string };
}

// ------------------------------------------------------------------------------------------------ training

export const loraSchema = z
  .object({
    r: z.number().int().positive().default(16),
    alpha: z.number().positive().default(32),
    dropout: z.number().min(0).lt(1).default(0.05),
    targetModules: z.union([z.literal('all-linear'), z.array(z.string().min(1)).min(1)]).default('all-linear'),
  })
  .strict();

export const trainingSchema = z
  .object({
    maxSeqLength: z.number().int().positive().default(4096),
    lora: loraSchema.prefault({}),
    /** "4bit" is QLoRA (CUDA + bitsandbytes). */
    quantization: z.enum(['none', '4bit']).default('none'),
    epochs: z.number().positive().default(1),
    /** -1: train by epochs. */
    maxSteps: z.number().int().min(-1).refine((v) => v !== 0, 'must be -1 or a positive number of steps').default(-1),
    learningRate: z.number().positive().default(2e-4),
    lrScheduler: z
      .enum(['linear', 'cosine', 'cosine_with_restarts', 'polynomial', 'constant', 'constant_with_warmup', 'inverse_sqrt', 'cosine_with_min_lr', 'warmup_stable_decay'])
      .default('cosine'),
    warmupRatio: z.number().min(0).lt(1).default(0.03),
    perDeviceBatchSize: z.number().int().positive().default(1),
    gradientAccumulationSteps: z.number().int().positive().default(8),
    packing: z.boolean().default(false),
    assistantOnlyLoss: z.boolean().default(true),
    gradientCheckpointing: z.boolean().default(true),
    bf16: z.union([z.literal('auto'), z.boolean()]).default('auto'),
    seed: z.number().int().default(42),
    saveSteps: z.number().int().positive().default(100),
    loggingSteps: z.number().int().positive().default(10),
    saveTotalLimit: z.number().int().positive().default(2),
    backend: z.enum(['auto', 'trl', 'unsloth']).default('auto'),
    /** Also save the adapter merged into the base weights. */
    merge: z.boolean().default(false),
    device: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
    chatTemplate: z.string().min(1).optional(),
  })
  .strict();
export type Training = z.infer<typeof trainingSchema>;

export const generationSchema = z
  .object({
    maxNewTokens: z.number().int().positive().default(512),
    temperature: z.number().min(0).default(0),
    batchSize: z.number().int().positive().default(8),
    backend: z.enum(['auto', 'transformers', 'vllm']).default('auto'),
    device: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
    seed: z.number().int().default(42),
  })
  .strict();
export type Generation = z.infer<typeof generationSchema>;

// ------------------------------------------------------------------------------------------------ trainer config

/*
 * The JSON configs the Python trainer reads (`python -m twinflow_trainer {train,dpo,generate} --config FILE`), in the
 * trainer's snake_case. This is their only definition: scripts/gen-trainer-schema.ts writes them as JSON Schema into
 * the trainer package (trainer/src/twinflow_trainer/config.schema.json), and the trainer validates every config with
 * that file and takes its defaults from it (config.py). Tests fail when the committed file or config.py's dataclasses
 * drift from these schemas (tests/unit/train/trainer-schema.test.ts, trainer/tests/test_config_schema.py).
 *
 * `.meta({ 'x-message' })` is the message the trainer reports for a field whose alternatives all failed, where
 * listing each alternative's complaint would not say what is wanted.
 */
const trainerPath = z.string().min(1);
const trainerCount = z.number().int().positive();
// Where the workflow's training settings define a field as the trainer does, the trainer's field is that one (the
// activity passes every value through, so the defaults must agree anyway).
const training = trainingSchema.shape;
const generation = generationSchema.shape;
const trainerDevice = training.device;
const trainerQuantization = training.quantization;
const maxStepsMessage = 'must be -1 (train by epochs) or a positive number of steps';
// JSON Schema gets the refinement as `not: {const: 0}` (z.toJSONSchema cannot translate a refine).
const trainerMaxSteps = z
  .number()
  .int()
  .min(-1)
  .refine((v) => v !== 0, maxStepsMessage)
  .meta({ not: { const: 0 }, 'x-message': maxStepsMessage })
  .default(-1);

export const trainerLoraConfigSchema = z
  .object({
    r: loraSchema.shape.r,
    alpha: loraSchema.shape.alpha,
    dropout: loraSchema.shape.dropout,
    target_modules: z
      .union([z.literal('all-linear'), z.array(trainerPath).min(1)])
      .meta({ 'x-message': 'must be "all-linear" or a non-empty list of module names' })
      .default('all-linear'),
  })
  .strict();

/** The settings of a training run that SFT (`train`) and preference tuning (`dpo`) share, after their own fields. */
const trainerRunFields = {
  per_device_batch_size: training.perDeviceBatchSize,
  gradient_accumulation_steps: training.gradientAccumulationSteps,
  gradient_checkpointing: training.gradientCheckpointing,
  bf16: training.bf16,
  seed: training.seed,
  save_steps: training.saveSteps,
  logging_steps: training.loggingSteps,
  /** null: keep every checkpoint. */
  save_total_limit: trainerCount.nullable().default(2),
  resume_from_checkpoint: trainerPath.nullable().optional(),
};

export const trainerTrainConfigSchema = z
  .object({
    base_model: trainerPath,
    output_dir: trainerPath,
    train_file: trainerPath,
    eval_file: trainerPath.nullable().optional(),
    max_seq_length: training.maxSeqLength,
    lora: trainerLoraConfigSchema.prefault({}),
    quantization: trainerQuantization,
    epochs: training.epochs,
    max_steps: trainerMaxSteps,
    learning_rate: training.learningRate,
    lr_scheduler: training.lrScheduler,
    warmup_ratio: training.warmupRatio,
    packing: training.packing,
    assistant_only_loss: training.assistantOnlyLoss,
    ...trainerRunFields,
    backend: training.backend,
    merge: training.merge,
    device: trainerDevice,
    chat_template: trainerPath.nullable().optional(),
  })
  .strict();
export type TrainerTrainConfig = z.input<typeof trainerTrainConfigSchema>;

export const trainerGenerateConfigSchema = z
  .object({
    base_model: trainerPath,
    adapter_dir: trainerPath.nullable().optional(),
    input_file: trainerPath,
    output_file: trainerPath,
    max_new_tokens: generation.maxNewTokens,
    temperature: generation.temperature,
    top_p: z.number().positive().max(1).default(1),
    batch_size: generation.batchSize,
    max_input_length: trainerCount.nullable().optional(),
    backend: generation.backend,
    device: generation.device,
    seed: generation.seed,
    chat_template: trainerPath.nullable().optional(),
  })
  .strict();
export type TrainerGenerateConfig = z.input<typeof trainerGenerateConfigSchema>;

/** Direct preference optimisation of an SFT adapter (dpo.py): the adapter trains on, a frozen copy is the reference. */
export const trainerDpoConfigSchema = z
  .object({
    base_model: trainerPath,
    /** The SFT adapter to start from (and the reference policy); its tokenizer is used. */
    adapter_dir: trainerPath,
    output_dir: trainerPath,
    /**
     * JSON Lines of preference pairs {"prompt": [messages], "chosen": str, "rejected": str}, or, with
     * rejected="generated", SFT conversations {"messages": [..., assistant]} (the reference answer is chosen).
     */
    pairs_file: trainerPath,
    eval_file: trainerPath.nullable().optional(),
    rejected: z.enum(['records', 'generated']).default('records'),
    /** Generation of rejected answers (rejected="generated"): greedy, at most this many new tokens. */
    generate_max_new_tokens: trainerCount.default(256),
    generate_batch_size: trainerCount.default(8),
    max_seq_length: training.maxSeqLength,
    beta: z.number().positive().default(0.1),
    loss_type: z.enum(['sigmoid', 'ipo', 'hinge', 'robust']).default('sigmoid'),
    quantization: trainerQuantization,
    epochs: z.number().positive().default(1),
    max_steps: trainerMaxSteps,
    learning_rate: z.number().positive().default(5e-6),
    lr_scheduler: z.enum(['linear', 'cosine', 'constant', 'constant_with_warmup']).default('cosine'),
    warmup_ratio: z.number().min(0).lt(1).default(0.1),
    ...trainerRunFields,
    merge: z.boolean().default(false),
    device: trainerDevice,
    chat_template: trainerPath.nullable().optional(),
  })
  .strict();
export type TrainerDpoConfig = z.input<typeof trainerDpoConfigSchema>;

/** The trainer's config schemas by command (`validate-config --kind` takes the same names). */
export const TRAINER_CONFIG_SCHEMAS = {
  train: trainerTrainConfigSchema,
  generate: trainerGenerateConfigSchema,
  dpo: trainerDpoConfigSchema,
} as const;

// ------------------------------------------------------------------------------------------------ evaluation

export const baselineSchema = llmEndpointSchema
  .extend({
    /** The row label in the report (default: the model id, with "-fewshot" when shots > 0). */
    name: slug.optional(),
    /** Worked examples from the train split put before each test prompt (0: zero-shot). */
    shots: z.number().int().min(0).max(32).default(0),
  })
  .strict();
export type Baseline = z.infer<typeof baselineSchema>;

/** The report row name of a baseline: its own name, else the model id (+ "-fewshot"); workflows and activities alike. */
export function baselineName(b: Pick<Baseline, 'name' | 'model' | 'shots'>): string {
  return b.name ?? `${b.model.replace(/[^A-Za-z0-9._-]/g, '-')}${b.shots > 0 ? '-fewshot' : ''}`;
}

export const evaluationSchema = z
  .object({
    useStemmer: z.boolean().default(true),
    baselines: z.array(baselineSchema).max(16).default([]),
    /** The no-LLM floor baselines (rows "train-mean" and "nearest-train"; activities/model-eval/baseline.ts). */
    floors: z.array(z.enum(['train-mean', 'nearest-train'])).default(['train-mean', 'nearest-train']),
    /** Evaluate on the first N test examples only (smoke runs). */
    maxExamples: z.number().int().positive().optional(),
  })
  .strict();

// ------------------------------------------------------------------------------------------------ publish

export const publishGateSchema = z
  .object({
    minRougeLsum: z.number().min(0).max(1).optional(),
    maxRmse: z.number().min(0).optional(),
    minFormatCompliance: z.number().min(0).max(1).optional(),
    /** Share of the test split's ratings the model gave (ratings read / expected). */
    minCoverage: z.number().min(0).max(1).optional(),
    /**
     * The model must beat these baselines (by report name, e.g. "nearest-train") on ROUGE-Lsum where the baseline has
     * text, and on ratings RMSE (missing ratings counted as the worst error) where both have ratings.
     */
    beatBaseline: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    /** By how much beatBaseline must be beaten: ROUGE-Lsum higher and RMSE lower by at least this. */
    beatMargin: z.number().min(0).optional(),
  })
  .strict()
  .refine((g) => [g.minRougeLsum, g.maxRmse, g.minFormatCompliance, g.minCoverage, g.beatBaseline].some((v) => v !== undefined), {
    message: 'set at least one of minRougeLsum, maxRmse, minFormatCompliance, minCoverage, beatBaseline (nothing is published ungated)',
  });
export type PublishGate = z.infer<typeof publishGateSchema>;

export const publishSchema = z
  .object({
    /** "namespace/name" on the Hub. */
    repo: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/, 'expected "namespace/name"'),
    private: z.boolean().default(true),
    weights: z.enum(['adapter', 'merged']).default('adapter'),
    /** Write the exact files to S3 instead of the Hub. */
    dryRun: z.boolean().default(false),
    gate: publishGateSchema.prefault({}),
    license: z.string().min(1).optional(),
    /** Hub dataset ids for the card's `datasets` metadata (default: the twinflow dataset name). */
    datasets: z.array(z.string().min(1)).optional(),
    commitMessage: z.string().min(1).optional(),
    /** With `variants`: the variant to publish (default: the first). */
    variant: slug.optional(),
  })
  .strict();
export type Publish = z.infer<typeof publishSchema>;

// ------------------------------------------------------------------------------------------------ review & variants

/**
 * Human review before publishing: the run waits (durably) for an approve/reject decision sent as the `review` Update.
 * `true` takes the defaults; `onTimeout` is what happens when nobody decides within `timeout`.
 */
export const reviewSettingsSchema = z
  .object({
    timeout: duration.default('7 days'),
    onTimeout: z.enum(['reject', 'publish']).default('reject'),
  })
  .strict();
export type ReviewSettings = z.infer<typeof reviewSettingsSchema>;

/** The normalised review settings of a config (undefined: no review). */
export function reviewSettingsOf(review: boolean | z.input<typeof reviewSettingsSchema> | undefined): ReviewSettings | undefined {
  if (review === undefined || review === false) return undefined;
  return reviewSettingsSchema.parse(review === true ? {} : review);
}

/** The decision a person sends (CLI, client, Web UI): the `review` Update's one argument. */
export const reviewDecisionSchema = z
  .object({
    decision: z.enum(['approve', 'reject']),
    reason: z.string().trim().min(1, 'say why (the reason goes into the model card)').max(2000),
    /** Who decided (the CLI sends user@host; the Web UI user types a name). */
    by: z.string().trim().min(1, 'say who decides').max(200),
  })
  .strict();
export type ReviewDecision = z.infer<typeof reviewDecisionSchema>;

/** What the run records about its review: the decision (or the timeout policy) with who, why and when. */
export interface ReviewOutcome {
  decision: 'approve' | 'reject';
  by: string;
  reason: string;
  at: string;
  /** True when nobody decided in time and the configured policy decided. */
  timedOut: boolean;
}

export const REVIEW_UPDATE = 'review';

/** One training variant of a comparison (e.g. 4K vs 8K): its row name and what it changes. */
export const trainVariantSchema = z
  .object({
    name: slug,
    overrides: z
      .object({
        training: z.record(z.string(), z.unknown()).optional(),
        generation: z.record(z.string(), z.unknown()).optional(),
      })
      .strict()
      .prefault({}),
  })
  .strict();
export type TrainVariant = z.infer<typeof trainVariantSchema>;

// ------------------------------------------------------------------------------------------------ workflow input

export const trainInputSchema = z
  .object({
    /** The run's name: S3 keys and the report use it. */
    name: slug,
    dataset: z.union([datasetSpecSchema, z.object({ manifestUri: s3UriSchema }).strict()]),
    model: z
      .object({
        /** Hub id, a folder on the GPU worker, or an s3:// prefix holding the model. */
        baseModel: z.string().min(1),
        /** The fine-tuned model's row label in the report, e.g. "llama-3.1-8b-8K". */
        name: slug,
      })
      .strict(),
    training: trainingSchema.prefault({}),
    /** Preference tuning (DPO) after SFT, before generation (lib/schemas/dpo.ts); absent: SFT only. */
    dpo: dpoSchema.optional(),
    generation: generationSchema.prefault({}),
    evaluation: evaluationSchema.prefault({}),
    publish: publishSchema.optional(),
    /** Wait for a person's approve/reject (the `review` Update) before publishing. */
    review: z.union([z.boolean(), reviewSettingsSchema]).optional(),
    /**
     * Train several variants on the same dataset (e.g. 4K vs 8K): each is fine-tuned with `training`/`generation`
     * merged with its overrides and evaluated; the baselines run once; one report. Rows are named by variant.
     */
    variants: z.array(trainVariantSchema).min(1).max(8).optional(),
    gpu: z
      .object({
        /** Default: the workers' TWINFLOW_GPU_TASK_QUEUE. */
        taskQueue: z.string().min(1).optional(),
        /** Sized for training: a step on a big model plus a checkpoint save must fit in it. */
        heartbeatTimeout: duration.default('5 minutes'),
        startToCloseTimeout: duration.default('72 hours'),
        maximumAttempts: z.number().int().positive().max(20).default(3),
        /** First retry delay of a failed GPU activity (then doubling, at most 10 minutes). */
        retryInitialInterval: duration.default('10 seconds'),
        /** At most one progress update per this many seconds reaches the workflow (checkpoints always do). */
        progressIntervalSeconds: z.number().positive().default(30),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.review && !c.publish) ctx.addIssue({ code: 'custom', path: ['review'], message: 'review decides whether to publish: set publish too' });
    const names = c.variants?.map((v) => v.name) ?? [];
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) ctx.addIssue({ code: 'custom', path: ['variants'], message: `two variants are named "${dup}"` });
    if (c.publish?.variant && !names.includes(c.publish.variant)) {
      ctx.addIssue({ code: 'custom', path: ['publish', 'variant'], message: `no variant is named "${c.publish.variant}" (have: ${names.join(', ') || 'none'})` });
    }
    c.variants?.forEach((v, i) => {
      for (const [key, schema] of [['training', trainingSchema], ['generation', generationSchema]] as const) {
        const over = v.overrides[key];
        if (!over) continue;
        const r = schema.safeParse({ ...(c[key] as object), ...over });
        if (!r.success) for (const issue of r.error.issues) ctx.addIssue({ code: 'custom', path: ['variants', i, 'overrides', key, ...issue.path.map(String)], message: issue.message });
      }
    });
  });
export type TrainInput = z.input<typeof trainInputSchema>;
export type TrainConfig = z.output<typeof trainInputSchema>;

// ------------------------------------------------------------------------------------------------ progress & results

export interface TrainingProgress {
  attempt: number;
  step: number;
  maxSteps: number;
  epoch?: number;
  loss?: number;
  learningRate?: number;
  tokensPerSecond?: number;
  etaSeconds?: number;
  evalLoss?: number;
  lastCheckpointUri?: string;
  resumedFromStep?: number | null;
  device?: string;
  backend?: string;
}

export type TrainStage = 'starting' | 'dataset' | 'finetune' | 'dpo' | 'generate' | 'evaluate' | 'report' | 'review' | 'publish' | 'done' | 'failed';

export interface TrainProgress {
  stage: TrainStage;
  dataset?: { version: string; manifestUri: string; counts: DatasetRef['counts'] };
  training?: TrainingProgress;
  generation?: { done: number; total: number };
  evaluations: Array<{ model: string; rougeLsum: number | null; ratingsRmse: number | null }>;
  /** With variants: the one being trained or evaluated now. */
  variant?: string;
  /** With review: the page to read, until when the run waits, and the decision once made. */
  review?: { reviewUri: string; deadline: string; onTimeout: ReviewSettings['onTimeout']; outcome?: ReviewOutcome };
}

/** Small per-model evaluation summary (the per-example results stay in S3). */
export interface ModelEvaluation {
  model: string;
  kind: 'fine-tuned' | 'baseline';
  count: number;
  rougeLsum: number | null;
  /**
   * Over every rating of every test example: a rating the model did not give (or gave off the scale) counts as the
   * worst error on the scale (activities/model-eval/score.ts MISSING_RATING_RULE), so dropping ratings never helps.
   */
  ratingsRmse: number | null;
  ratingsMae: number | null;
  /** Over the ratings that could be read only; read them next to `coverage`. */
  parsedRmse?: number | null;
  parsedMae?: number | null;
  /** Ratings read / ratings expected, overall and per key (null for a text-only format; set by every evaluation). */
  coverage?: number | null;
  perKeyCoverage?: Record<string, number | null>;
  /** Outputs from which no rating could be read at all. */
  unparsed?: number;
  formatCompliance: number;
  /** Examples whose every rating could be read. */
  ratedCount: number;
  perKeyRmse: Record<string, number | null>;
  predictionsUri: string;
  resultsUri: string;
  usage?: { requests: number; promptTokens: number; completionTokens: number; costUsd: number; cachedResponses?: number };
}

export interface ReportRef {
  markdown: string;
  reportUri: string;
  jsonUri: string;
  chartUri: string;
  /** The human review page (static HTML): inputs, references and every model's output side by side. */
  reviewUri?: string;
}

export interface FineTuneResult {
  adapterUri: string;
  mergedUri?: string;
  /**
   * trainLoss is the mean over the whole run (the Trainer's training_loss), not the last step's; the loss curve has
   * those. null: the trainer reported no loss.
   */
  metrics: { trainLoss: number | null; runtimeSeconds: number; trainTokens: number; globalStep: number };
  /** TensorBoard event files of the run (`tensorboard --logdir`), and its loss curve (SVG). */
  tensorboardUri?: string;
  lossCurveUri?: string;
  /** DPO with generated pairs: the pairs it learnt from (prompt, chosen, rejected). */
  pairsUri?: string;
  /** After a DPO stage: its pair counts and reward accuracy/margin, and the SFT result it started from. */
  dpo?: DpoMetrics;
  sft?: FineTuneResult;
  resumedFromStep: number | null;
  checkpoints: number;
  attempt: number;
}

export interface PublishResult {
  published: boolean;
  dryRun: boolean;
  gatePassed: boolean;
  reasons: string[];
  repo?: string;
  repoUrl?: string;
  commitOid?: string;
  files: string[];
  dryRunUri?: string;
  /** The model card checked with huggingface_hub (activities/publish/card-check.ts): "passed …" or "skipped: …". */
  cardCheck?: string;
}

export interface TrainResult {
  dataset: DatasetRef;
  fineTune: FineTuneResult;
  evaluations: ModelEvaluation[];
  report: ReportRef;
  publish?: PublishResult;
  /** With variants: every variant's fine-tune (fineTune is the published, or first, one). */
  variants?: Array<{ name: string; fineTune: FineTuneResult }>;
  review?: ReviewOutcome;
}

/** Signal the fine-tune activity sends to its workflow with training progress. */
export const TRAINING_PROGRESS_SIGNAL = 'trainingProgress';
/** Query that returns TrainProgress. */
export const TRAIN_PROGRESS_QUERY = 'progress';
