/**
 * The request schemas of retrieval and generation: one zod object per call, every technique switchable per request.
 * The same schemas validate library calls, the HTTP API (400 naming the field) and the CLI flags, and generate the
 * OpenAPI document.
 *
 * Technique toggles are optional here; `resolveOptions` fills what a request leaves out from DEFAULTS, measured on the
 * fixture corpus (docs/rag.md, "Defaults"), adjusted to what the deployment has: a technique that needs an LLM or a
 * re-ranker defaults to off when none is configured, and asking for it explicitly is a clear error.
 */
import { z } from 'zod';
import { FILTER_FIELDS, type Filter } from '../lib/vectorstore/types';

const scalar = z.union([z.string(), z.number(), z.boolean()]);

const conditionSchema = z.union(
  [
    z.object({ field: z.enum(FILTER_FIELDS), eq: scalar }).strict(),
    z.object({ field: z.enum(FILTER_FIELDS), in: z.array(z.union([z.string(), z.number()])).min(1, 'expected at least one value') }).strict(),
    z
      .object({
        field: z.enum(FILTER_FIELDS),
        range: z
          .object({ gte: z.number().optional(), lte: z.number().optional() })
          .strict()
          .refine((r) => r.gte !== undefined || r.lte !== undefined, 'expected gte and/or lte'),
      })
      .strict(),
  ],
  { error: `expected {field, eq} or {field, in} or {field, range}, with field one of ${FILTER_FIELDS.join(', ')}` },
);

/** An explicit payload filter (AND of conditions), pushed down to the vector store. */
export const filterSchema = z.object({ must: z.array(conditionSchema) }).strict() satisfies z.ZodType<Filter>;

export const searchModeSchema = z.enum(['vector', 'keyword', 'hybrid']);
export type SearchMode = z.infer<typeof searchModeSchema>;

export const fusionSchema = z.union([z.literal('rrf'), z.object({ alpha: z.number().min(0).max(1) }).strict()], {
  error: 'expected "rrf" or {"alpha": number in [0,1]}',
});

const collectionName = z.string().min(1, 'must not be empty').max(128);

/** Options shared by search and ask: how candidates are found and ranked. */
export const retrievalOptionsShape = {
  collections: z.array(collectionName).min(1).max(16).optional().describe('collections (or aliases) to search; default RAG_COLLECTIONS'),
  limit: z.int().min(1).max(100).optional().describe('results kept after ranking (default 5)'),
  candidates: z.int().min(1).max(500).optional().describe('candidates taken from each retrieval list before fusion and re-ranking (default 30)'),
  mode: searchModeSchema.optional().describe('vector, keyword (full text) or hybrid (default hybrid)'),
  fusion: fusionSchema.optional().describe('hybrid fusion: "rrf" (default) or {"alpha": weight of the vector side}'),
  filter: filterSchema.optional().describe('explicit payload filter, AND-ed with self-query and routing filters'),
  routing: z.enum(['off', 'rules', 'llm']).optional().describe('query routing: pick collections / source types, or no retrieval'),
  rewrite: z.boolean().optional().describe('LLM rewrites the query to match how the indexed text is written'),
  expansion: z.int().min(0).max(10).optional().describe('number of LLM reformulations searched and fused with RRF (0 = off)'),
  selfQuery: z.enum(['off', 'rules', 'llm']).optional().describe('turn entities of the question (author, source, dates, tags) into filters'),
  hyde: z.boolean().optional().describe('embed an LLM-written hypothetical answer and search with it too'),
  rerank: z.boolean().optional().describe('re-rank the candidates with the cross-encoder and keep the best `limit`'),
};

export const searchRequestSchema = z.object({ query: z.string().trim().min(1, 'must not be empty').max(4000), ...retrievalOptionsShape }).strict();
export type SearchRequest = z.input<typeof searchRequestSchema>;

export const compressionSchema = z.union([
  z.boolean(),
  z.object({ maxTokens: z.int().min(16).max(200_000) }).strict(),
]);

export const askRequestSchema = z
  .object({
    question: z.string().trim().min(1, 'must not be empty').max(4000),
    ...retrievalOptionsShape,
    smallToBig: z.boolean().optional().describe('return the parent section of each matched chunk as context (duplicates merged)'),
    compression: compressionSchema.optional().describe('drop the sentences least similar to the question until the context fits maxTokens (true = RAG_CONTEXT_TOKENS)'),
    stream: z.boolean().optional().describe('HTTP only: stream the answer (default true)'),
    temperature: z.number().min(0).max(2).optional(),
    maxAnswerTokens: z.int().min(1).max(32_000).optional(),
  })
  .strict();
export type AskRequest = z.input<typeof askRequestSchema>;

/** What a deployment can do; decides the defaults of techniques that need an LLM or a re-ranker. */
export interface Capabilities {
  llm: boolean;
  reranker: boolean;
}

/**
 * The defaults: the best combination measured by `twinflow eval retrieval` on the fixture corpus (docs/rag.md).
 * LLM-based techniques are off by default: no LLM could be measured here, and each costs a model round trip.
 */
export const DEFAULTS = {
  limit: 5,
  candidates: 30,
  mode: 'hybrid' as SearchMode,
  fusion: 'rrf' as 'rrf' | { alpha: number },
  routing: 'off' as 'off' | 'rules' | 'llm',
  rewrite: false,
  expansion: 0,
  selfQuery: 'rules' as 'off' | 'rules' | 'llm',
  hyde: false,
  /** On whenever a re-ranker is configured. */
  rerank: true,
  smallToBig: true,
  /** On: it only drops sentences when the context is over the budget. */
  compression: true,
};

export interface ResolvedRetrievalOptions {
  collections: string[];
  limit: number;
  candidates: number;
  mode: SearchMode;
  fusion: 'rrf' | { alpha: number };
  filter?: Filter;
  routing: 'off' | 'rules' | 'llm';
  rewrite: boolean;
  expansion: number;
  selfQuery: 'off' | 'rules' | 'llm';
  hyde: boolean;
  rerank: boolean;
}

export interface ResolvedAskOptions extends ResolvedRetrievalOptions {
  smallToBig: boolean;
  /** Token budget of the context, or undefined when compression is off. */
  compressionTokens?: number;
  temperature?: number;
  maxAnswerTokens?: number;
}

/** A request that asks for something the deployment cannot do; the message names the option and the fix. */
export class OptionUnavailableError extends Error {
  override name = 'OptionUnavailableError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

type RetrievalInput = z.output<z.ZodObject<typeof retrievalOptionsShape>>;

export function resolveRetrievalOptions(req: RetrievalInput, caps: Capabilities, defaultCollections: string[]): ResolvedRetrievalOptions {
  const needLlm = (field: string, on: boolean) => {
    if (on && !caps.llm) throw new OptionUnavailableError(field, 'needs an LLM; none is configured (set LLM_BASE_URL)');
  };
  needLlm('rewrite', req.rewrite === true);
  needLlm('expansion', (req.expansion ?? 0) > 0);
  needLlm('hyde', req.hyde === true);
  needLlm('routing', req.routing === 'llm');
  needLlm('selfQuery', req.selfQuery === 'llm');
  if (req.rerank === true && !caps.reranker) throw new OptionUnavailableError('rerank', 'no re-ranker is configured (set RERANKER_MODEL or RERANKER_URL)');
  if (req.mode === 'keyword' && req.hyde === true) throw new OptionUnavailableError('hyde', 'HyDE searches with a vector; it does not apply to mode "keyword"');
  return {
    collections: req.collections ?? defaultCollections,
    limit: req.limit ?? DEFAULTS.limit,
    candidates: req.candidates ?? DEFAULTS.candidates,
    mode: req.mode ?? DEFAULTS.mode,
    fusion: req.fusion ?? DEFAULTS.fusion,
    filter: req.filter,
    routing: req.routing ?? (DEFAULTS.routing === 'llm' && !caps.llm ? 'rules' : DEFAULTS.routing),
    rewrite: req.rewrite ?? (DEFAULTS.rewrite && caps.llm),
    expansion: req.expansion ?? (caps.llm ? DEFAULTS.expansion : 0),
    selfQuery: req.selfQuery ?? (DEFAULTS.selfQuery === 'llm' && !caps.llm ? 'rules' : DEFAULTS.selfQuery),
    hyde: req.hyde ?? (DEFAULTS.hyde && caps.llm && req.mode !== 'keyword'),
    rerank: req.rerank ?? (DEFAULTS.rerank && caps.reranker),
  };
}

export function resolveAskOptions(
  req: z.output<typeof askRequestSchema>,
  caps: Capabilities,
  defaultCollections: string[],
  contextTokens: number,
): ResolvedAskOptions {
  const compression = req.compression ?? DEFAULTS.compression;
  return {
    ...resolveRetrievalOptions(req, caps, defaultCollections),
    smallToBig: req.smallToBig ?? DEFAULTS.smallToBig,
    compressionTokens: compression === false ? undefined : compression === true ? contextTokens : compression.maxTokens,
    temperature: req.temperature,
    maxAnswerTokens: req.maxAnswerTokens,
  };
}
