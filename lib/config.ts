/**
 * twinflow's configuration: one zod-validated object built from environment variables. Every default points at the
 * local stack that `twinflow stack up` runs, so nothing needs setting on a laptop; a cluster sets the same variables.
 *
 * An invalid value fails at start with a one-line message that names the variable, e.g.
 *   Invalid configuration: TWINFLOW_MINIO_PORT: expected a port number (1-65535), got "abc"
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { parseAllowList } from './security/network';
import { type CodecKey, codecKeysSchema } from './codec/keys';
import { parseAllowBuckets, parseAllowPaths, type ResourcePolicy } from './security/resources';
import { type DeclaredApiKey, parseApiKeys } from './security/secrets';

/** The repository root (this file lives in lib/). */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const port = z.coerce
  .number({ error: 'expected a port number (1-65535)' })
  .int('expected a port number (1-65535)')
  .min(1, 'expected a port number (1-65535)')
  .max(65535, 'expected a port number (1-65535)');
const positiveInt = z.coerce.number({ error: 'expected a positive integer' }).int('expected a positive integer').positive('expected a positive integer');
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'expected true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const url = z.url({ error: 'expected a URL such as http://127.0.0.1:9000' });
const nonEmpty = z.string().min(1, 'must not be empty');
/** A string parsed by `parse`, whose Error message becomes the variable's one-line error. */
function parsed<T>(parse: (v: string) => T) {
  return z.string().transform((v, ctx) => {
    try {
      return parse(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });
}

/** Environment variable → schema. Keys are the variable names, so an error path is the variable to change. */
const envSchema = z.object({
  TWINFLOW_HOME: nonEmpty.default(path.join(PROJECT_ROOT, '.twinflow')),

  TEMPORAL_ADDRESS: nonEmpty.optional(),
  TEMPORAL_NAMESPACE: nonEmpty.default('default'),
  TEMPORAL_API_KEY: z.string().optional(),
  TEMPORAL_TLS: bool.default(false),
  /** The Temporal Web UI that links point at (a cluster's UI, https://cloud.temporal.io); default the local stack's. */
  TEMPORAL_UI_URL: url.optional(),
  TWINFLOW_TASK_QUEUE: nonEmpty.default('twinflow'),
  TWINFLOW_GPU_TASK_QUEUE: nonEmpty.default('gpu-a6000'),
  TWINFLOW_MAX_CONCURRENT_ACTIVITIES: positiveInt.default(8),
  TWINFLOW_GPU_MAX_CONCURRENT_ACTIVITIES: positiveInt.default(1),
  TWINFLOW_WORKFLOW_BUNDLE: z.string().optional(),
  /** How long a start waits for a worker to poll its task queue before saying none runs (0: do not check). */
  TWINFLOW_WORKER_CHECK_SECONDS: z.coerce
    .number({ error: 'expected a number of seconds (0 or more)' })
    .min(0, 'expected a number of seconds (0 or more)')
    .max(600, 'expected at most 600 seconds')
    .default(3),

  TWINFLOW_TEMPORAL_PORT: port.default(7233),
  TWINFLOW_TEMPORAL_UI_PORT: port.default(8233),
  TWINFLOW_MINIO_PORT: port.default(9000),
  TWINFLOW_MINIO_CONSOLE_PORT: port.default(9001),
  TWINFLOW_STACK_DIR: z.string().optional(),

  S3_ENDPOINT: url.optional(),
  S3_REGION: nonEmpty.default('us-east-1'),
  S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'expected an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)')
    .default('twinflow'),
  S3_FORCE_PATH_STYLE: bool.optional(),
  AWS_ACCESS_KEY_ID: z.string().optional(),
  AWS_SECRET_ACCESS_KEY: z.string().optional(),

  VECTOR_STORE: z.enum(['lancedb', 'qdrant'], { error: 'expected lancedb or qdrant' }).default('lancedb'),
  LANCEDB_URI: nonEmpty.optional(),
  LANCEDB_NPROBES: positiveInt.default(20),
  QDRANT_URL: url.optional(),
  QDRANT_API_KEY: z.string().optional(),

  EMBEDDING_PROVIDER: z.enum(['local', 'openai'], { error: 'expected local or openai' }).default('local'),
  EMBEDDING_MODEL: nonEmpty.default('all-MiniLM-L6-v2'),
  EMBEDDING_MODELS_DIR: nonEmpty.optional(),
  EMBEDDING_BASE_URL: url.optional(),
  EMBEDDING_API_KEY: z.string().optional(),
  EMBEDDING_BATCH_SIZE: positiveInt.default(32),
  EMBEDDING_THREADS: positiveInt.optional(),
  /** The local model's ONNX variant; default: the folder's best (fp32 when scripts/fetch-models.sh exported it). */
  EMBEDDING_DTYPE: z.enum(['fp32', 'q8'], { error: 'expected fp32 or q8' }).optional(),
  /** Where the local model runs: auto (an NVIDIA GPU when ONNX Runtime's CUDA provider is installed, else the CPU), cpu, or cuda. */
  EMBEDDING_DEVICE: z.enum(['auto', 'cpu', 'cuda'], { error: 'expected auto, cpu or cuda' }).default('auto'),

  LLM_BASE_URL: url.optional(),
  LLM_MODEL: nonEmpty.default('gpt-4o-mini'),
  LLM_API_KEY: z.string().optional(),

  // Retrieval (rag/): defaults for search and ask, the re-ranker, and the HTTP API of `twinflow serve`.
  RAG_COLLECTIONS: z
    .string()
    .regex(/^\s*[^,\s]+(\s*,\s*[^,\s]+)*\s*$/, 'expected collection names separated by commas')
    .default('twinflow'),
  RAG_CONTEXT_TOKENS: positiveInt.default(2000),
  RAG_ROUTES: nonEmpty.optional(),
  RAG_TOKENIZER: nonEmpty.optional(),
  RERANKER_MODEL: nonEmpty.optional(),
  RERANKER_URL: url.optional(),
  RERANKER_API: z.enum(['tei', 'cohere'], { error: 'expected tei or cohere' }).optional(),
  RERANKER_API_KEY: z.string().optional(),
  RERANKER_THREADS: positiveInt.optional(),
  TWINFLOW_API_HOST: nonEmpty.default('127.0.0.1'),
  TWINFLOW_API_PORT: port.default(8000),
  TWINFLOW_API_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Requests per minute one client address may make to `serve` (and to the codec server); over it: 429. */
  TWINFLOW_API_RATE_LIMIT: positiveInt.default(120),
  /** Origins a browser may call `serve` from (comma-separated); unset: no CORS headers at all. */
  TWINFLOW_API_CORS_ORIGINS: z
    .string()
    .regex(/^\s*https?:\/\/[^,\s/]+(\s*,\s*https?:\/\/[^,\s/]+)*\s*$/, 'expected origins such as https://app.example.com, separated by commas (no path)')
    .optional(),

  TWINFLOW_WEBHOOK_HOST: nonEmpty.default('127.0.0.1'),
  TWINFLOW_WEBHOOK_PORT: port.default(8686),
  /** Shared secret of the bucket-notification webhook (MinIO sends "Authorization: Bearer <secret>"). */
  TWINFLOW_WEBHOOK_SECRET: z.string().min(16, 'use at least 16 characters').optional(),
  /** Where MinIO posts events; default http://<host>:<port>/events. */
  TWINFLOW_WEBHOOK_URL: url.optional(),
  /** Requests per minute one client address may post to the webhook; over it: 429 (MinIO keeps and retries the event). */
  TWINFLOW_WEBHOOK_RATE_LIMIT: positiveInt.default(1200),

  /** Payload encryption (lib/codec): id:base64key pairs, the last the newest; unset: payloads are not encrypted. */
  TWINFLOW_CODEC_KEYS: codecKeysSchema.optional(),
  TWINFLOW_CODEC_HOST: nonEmpty.default('127.0.0.1'),
  TWINFLOW_CODEC_PORT: port.default(8234),
  /** Bearer token the codec server requires (the Web UI sends the user's access token when told to). */
  /** Requests per minute one client address may make to the codec server (the UI sends one per payload set). */
  TWINFLOW_CODEC_RATE_LIMIT: positiveInt.default(600),
  TWINFLOW_CODEC_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** The one browser origin the codec server answers CORS for; default: the Web UI's (TEMPORAL_UI_URL). */
  TWINFLOW_CODEC_CORS_ORIGIN: url.optional(),
  /** Inbox prefixes whose object events MinIO posts to the webhook: comma-separated "prefix" or "bucket:prefix". */
  TWINFLOW_NOTIFY_PREFIXES: z
    .string()
    .regex(/^\s*([a-z0-9][a-z0-9.-]{1,61}[a-z0-9]:)?[^,:]+(\s*,\s*([a-z0-9][a-z0-9.-]{1,61}[a-z0-9]:)?[^,:]+)*\s*$/, 'expected comma-separated prefixes, each "prefix" or "bucket:prefix"')
    .default('inbox/'),
  TWINFLOW_SCHEDULE_CRON: nonEmpty.default('0 2 * * *'),
  TWINFLOW_SCHEDULE_TIMEZONE: nonEmpty.default('UTC'),

  HF_TOKEN: z.string().optional(),
  HF_HUB_URL: url.default('https://huggingface.co'),

  /**
   * Addresses that workflow input may make this worker connect to beyond the public internet (crawled pages, git
   * remotes, LLM base URLs from input): keywords (loopback, private, link-local, cgnat, metadata), CIDRs, addresses
   * or host names, comma-separated. Unset: none (lib/security/network.ts, docs/security.md).
   */
  TWINFLOW_ALLOW_NETWORKS: z
    .string()
    .superRefine((v, ctx) => {
      try {
        parseAllowList(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `${(err as Error).message}; expected e.g. loopback,10.0.0.0/8,git.internal` });
      }
    })
    .optional(),

  // What workflow input may reach on the worker (lib/security, docs/security.md). Paths are resolved later, against
  // the working directory; unset means the safe defaults below.
  /** Roots under which folder sources, dataset records and file:// git repositories may be read (default <home>/data). */
  TWINFLOW_ALLOW_PATHS: z.string().optional(),
  /** Buckets (or bucket/prefix) s3 sources and records may read (default: S3_BUCKET). */
  TWINFLOW_ALLOW_BUCKETS: parsed(parseAllowBuckets).optional(),
  /** NAME=https://base.url,...: variables an input's apiKeyEnv may name, each sent only to its base URL. */
  TWINFLOW_API_KEYS: parsed(parseApiKeys).optional(),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  home: string;
  temporal: {
    address: string;
    namespace: string;
    apiKey?: string;
    tls: boolean;
    taskQueue: string;
    gpuTaskQueue: string;
    maxConcurrentActivities: number;
    gpuMaxConcurrentActivities: number;
    workflowBundle?: string;
    /** The Web UI's base address, without a trailing slash (TEMPORAL_UI_URL). */
    uiUrl: string;
    /** Seconds a start waits for a worker polling its task queue; 0: no check (TWINFLOW_WORKER_CHECK_SECONDS). */
    workerCheckSeconds: number;
  };
  stack: {
    dir: string;
    temporalPort: number;
    temporalUiPort: number;
    minioPort: number;
    minioConsolePort: number;
  };
  s3: {
    endpoint?: string;
    region: string;
    bucket: string;
    forcePathStyle: boolean;
    accessKeyId: string;
    secretAccessKey: string;
  };
  vectorStore: { kind: 'lancedb' | 'qdrant'; lancedbUri: string; lancedbNprobes: number; qdrantUrl?: string; qdrantApiKey?: string };
  embedding: {
    provider: 'local' | 'openai';
    model: string;
    modelsDir: string;
    baseUrl?: string;
    apiKey?: string;
    batchSize: number;
    /** ONNX Runtime threads of the local model (default: every core; the model computes in a thread of its own). */
    threads?: number;
    /** The local model's ONNX variant (default: the folder's best, fp32 when present). */
    dtype?: 'fp32' | 'q8';
    /** Where the local model runs (EMBEDDING_DEVICE): auto, cpu or cuda (lib/embedding/device.ts). */
    device: 'auto' | 'cpu' | 'cuda';
  };
  /** apiKeys: the variables an input's apiKeyEnv may name, each with the one base URL its key goes to (TWINFLOW_API_KEYS). */
  llm: { baseUrl?: string; model: string; apiKey?: string; apiKeys?: DeclaredApiKey[] };
  /** What workflow input may read on this worker: local paths (TWINFLOW_ALLOW_PATHS) and buckets (TWINFLOW_ALLOW_BUCKETS). */
  resources: ResourcePolicy;
  rag: {
    collections: string[];
    contextTokens: number;
    routesFile?: string;
    /** The generator's tokenizer (folder or hub id) for the context budget; default: the embedding model's. */
    tokenizer?: string;
    reranker: { model?: string; url?: string; api?: 'tei' | 'cohere'; apiKey?: string; threads?: number };
  };
  /** corsOrigins empty: no CORS. rateLimitPerMinute: per client address. */
  api: { host: string; port: number; token?: string; rateLimitPerMinute: number; corsOrigins: string[] };
  /** Payload encryption: no keys = off. server: `twinflow codec-server`. */
  codec: { keys: CodecKey[]; server: { host: string; port: number; token?: string; corsOrigin: string; rateLimitPerMinute: number } };
  /**
   * What workflow input may reach on the network beyond public addresses: the normalised entries of
   * TWINFLOW_ALLOW_NETWORKS (networkPolicyFor(allow) in lib/security/network.ts). Empty: public addresses only.
   */
  network: { allow: string[] };
  hf: { token?: string; hubUrl: string };
  /** Push: the bucket-notification endpoint (`twinflow webhook serve`) and what `stack up` wires MinIO to. */
  webhook: { host: string; port: number; secret?: string; url: string; rateLimitPerMinute: number; notify: Array<{ bucket: string; prefix: string }> };
  /** Defaults of `twinflow schedule apply`. */
  schedule: { cron: string; timeZone: string };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Variables whose value an error message leaves out. */
const SECRET_VALUES = new Set(['TWINFLOW_CODEC_KEYS', 'TWINFLOW_CODEC_TOKEN', 'TWINFLOW_API_TOKEN', 'TWINFLOW_WEBHOOK_SECRET']);

/** Formats zod issues as "VAR: message, got "value"" — one line per bad variable. */
function describeIssues(error: z.ZodError, env: NodeJS.ProcessEnv): string {
  return error.issues
    .map((issue) => {
      const variable = String(issue.path[0] ?? '?');
      const got = env[variable];
      // Key material and tokens are never echoed into an error (it ends up in logs).
      if (SECRET_VALUES.has(variable)) return `${variable}: ${issue.message}`;
      return `${variable}: ${issue.message}${got !== undefined ? `, got ${JSON.stringify(got)}` : ''}`;
    })
    .join('; ');
}

/** TWINFLOW_NOTIFY_PREFIXES as { bucket, prefix } (a plain prefix is in S3_BUCKET). */
function notifyPrefixes(e: Env): Array<{ bucket: string; prefix: string }> {
  return e.TWINFLOW_NOTIFY_PREFIXES.split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => {
      const colon = p.indexOf(':');
      return colon > 0 ? { bucket: p.slice(0, colon), prefix: p.slice(colon + 1) } : { bucket: e.S3_BUCKET, prefix: p };
    });
}

/** Builds the configuration from an environment (process.env by default). Throws ConfigError naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings count as unset, the way shells and .env files usually mean them.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) throw new ConfigError(`Invalid configuration: ${describeIssues(parsed.error, env)}`);
  const e = parsed.data;
  const home = path.resolve(e.TWINFLOW_HOME);
  const s3Endpoint = e.S3_ENDPOINT ?? `http://127.0.0.1:${e.TWINFLOW_MINIO_PORT}`;
  const usingLocalMinio = e.S3_ENDPOINT === undefined;
  return {
    home,
    temporal: {
      address: e.TEMPORAL_ADDRESS ?? `127.0.0.1:${e.TWINFLOW_TEMPORAL_PORT}`,
      namespace: e.TEMPORAL_NAMESPACE,
      apiKey: e.TEMPORAL_API_KEY,
      tls: e.TEMPORAL_TLS || e.TEMPORAL_API_KEY !== undefined,
      taskQueue: e.TWINFLOW_TASK_QUEUE,
      gpuTaskQueue: e.TWINFLOW_GPU_TASK_QUEUE,
      maxConcurrentActivities: e.TWINFLOW_MAX_CONCURRENT_ACTIVITIES,
      gpuMaxConcurrentActivities: e.TWINFLOW_GPU_MAX_CONCURRENT_ACTIVITIES,
      workflowBundle: e.TWINFLOW_WORKFLOW_BUNDLE,
      uiUrl: (e.TEMPORAL_UI_URL ?? `http://127.0.0.1:${e.TWINFLOW_TEMPORAL_UI_PORT}`).replace(/\/+$/, ''),
      workerCheckSeconds: e.TWINFLOW_WORKER_CHECK_SECONDS,
    },
    stack: {
      dir: path.resolve(e.TWINFLOW_STACK_DIR ?? path.join(home, 'stack')),
      temporalPort: e.TWINFLOW_TEMPORAL_PORT,
      temporalUiPort: e.TWINFLOW_TEMPORAL_UI_PORT,
      minioPort: e.TWINFLOW_MINIO_PORT,
      minioConsolePort: e.TWINFLOW_MINIO_CONSOLE_PORT,
    },
    s3: {
      endpoint: s3Endpoint,
      region: e.S3_REGION,
      bucket: e.S3_BUCKET,
      // MinIO needs path-style addressing; AWS S3 prefers virtual-hosted style.
      forcePathStyle: e.S3_FORCE_PATH_STYLE ?? true,
      accessKeyId: e.AWS_ACCESS_KEY_ID ?? (usingLocalMinio ? 'minioadmin' : ''),
      secretAccessKey: e.AWS_SECRET_ACCESS_KEY ?? (usingLocalMinio ? 'minioadmin' : ''),
    },
    vectorStore: {
      kind: e.VECTOR_STORE,
      // A URL (s3://bucket/prefix: LanceDB on S3, shared by several workers) stays as it is; a path is made absolute.
      lancedbUri: e.LANCEDB_URI && /^[a-z][a-z0-9+.-]*:\/\//i.test(e.LANCEDB_URI) ? e.LANCEDB_URI : path.resolve(e.LANCEDB_URI ?? path.join(home, 'lancedb')),
      lancedbNprobes: e.LANCEDB_NPROBES,
      qdrantUrl: e.QDRANT_URL,
      qdrantApiKey: e.QDRANT_API_KEY,
    },
    embedding: {
      provider: e.EMBEDDING_PROVIDER,
      model: e.EMBEDDING_MODEL,
      modelsDir: path.resolve(e.EMBEDDING_MODELS_DIR ?? path.join(home, 'models')),
      baseUrl: e.EMBEDDING_BASE_URL,
      apiKey: e.EMBEDDING_API_KEY,
      batchSize: e.EMBEDDING_BATCH_SIZE,
      threads: e.EMBEDDING_THREADS,
      dtype: e.EMBEDDING_DTYPE,
      device: e.EMBEDDING_DEVICE,
    },
    llm: { baseUrl: e.LLM_BASE_URL, model: e.LLM_MODEL, apiKey: e.LLM_API_KEY, apiKeys: e.TWINFLOW_API_KEYS ?? [] },
    resources: {
      // Safe by default: nothing of the worker's disk but its own data folder, nothing of S3 but its own bucket.
      paths: e.TWINFLOW_ALLOW_PATHS !== undefined ? parseAllowPaths(e.TWINFLOW_ALLOW_PATHS, process.cwd()) : [path.join(home, 'data')],
      // The inboxes of other buckets this worker's push path is wired to (TWINFLOW_NOTIFY_PREFIXES) are its own too.
      buckets: e.TWINFLOW_ALLOW_BUCKETS ?? [{ bucket: e.S3_BUCKET, prefix: '' }, ...notifyPrefixes(e).filter((n) => n.bucket !== e.S3_BUCKET)],
    },
    rag: {
      collections: e.RAG_COLLECTIONS.split(',').map((c) => c.trim()),
      contextTokens: e.RAG_CONTEXT_TOKENS,
      routesFile: e.RAG_ROUTES,
      tokenizer: e.RAG_TOKENIZER,
      reranker: { model: e.RERANKER_MODEL, url: e.RERANKER_URL, api: e.RERANKER_API, apiKey: e.RERANKER_API_KEY, threads: e.RERANKER_THREADS },
    },
    api: {
      host: e.TWINFLOW_API_HOST,
      port: e.TWINFLOW_API_PORT,
      token: e.TWINFLOW_API_TOKEN,
      rateLimitPerMinute: e.TWINFLOW_API_RATE_LIMIT,
      corsOrigins: (e.TWINFLOW_API_CORS_ORIGINS ?? '').split(',').map((o) => o.trim()).filter(Boolean),
    },
    codec: {
      keys: e.TWINFLOW_CODEC_KEYS ?? [],
      server: {
        host: e.TWINFLOW_CODEC_HOST,
        port: e.TWINFLOW_CODEC_PORT,
        token: e.TWINFLOW_CODEC_TOKEN,
        rateLimitPerMinute: e.TWINFLOW_CODEC_RATE_LIMIT,
        corsOrigin: new URL(e.TWINFLOW_CODEC_CORS_ORIGIN ?? e.TEMPORAL_UI_URL ?? `http://127.0.0.1:${e.TWINFLOW_TEMPORAL_UI_PORT}`).origin,
      },
    },
    network: { allow: parseAllowList(e.TWINFLOW_ALLOW_NETWORKS ?? '').map((entry) => entry.text) },
    hf: { token: e.HF_TOKEN, hubUrl: e.HF_HUB_URL },
    webhook: {
      host: e.TWINFLOW_WEBHOOK_HOST,
      port: e.TWINFLOW_WEBHOOK_PORT,
      secret: e.TWINFLOW_WEBHOOK_SECRET,
      rateLimitPerMinute: e.TWINFLOW_WEBHOOK_RATE_LIMIT,
      url: e.TWINFLOW_WEBHOOK_URL ?? `http://${e.TWINFLOW_WEBHOOK_HOST}:${e.TWINFLOW_WEBHOOK_PORT}/events`,
      notify: notifyPrefixes(e),
    },
    schedule: { cron: e.TWINFLOW_SCHEDULE_CRON, timeZone: e.TWINFLOW_SCHEDULE_TIMEZONE },
  };
}
