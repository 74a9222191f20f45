/**
 * Retrieval and generation as a library: the same functions the CLI (`twinflow search|ask|eval|serve`) and the HTTP
 * API use. See docs/rag.md.
 */
export { createRag, NO_LLM_MESSAGE, type AskEvent, type AskResult, type ContextResult, type Rag, type RagDeps, type SearchResponse } from './rag';
export { createRagFromConfig, rerankerFromConfig, resolveModelRef, type ConfiguredRag } from './from-config';
export {
  askRequestSchema,
  searchRequestSchema,
  filterSchema,
  DEFAULTS,
  OptionUnavailableError,
  type AskRequest,
  type SearchRequest,
  type Capabilities,
} from './options';
export { CollectionNotFoundError, retrieve, type RetrievalTrace, type RetrievedHit, type RetrievalResult } from './retrieve';
export { buildSources, type ContextSource } from './context';
export { compressSources, selectUnits, type CompressionReport, type TokenCounter } from './compress';
export { citedSources, scanCitations } from './citations';
export { CrossEncoderReranker, HttpReranker, rerankItems, type Reranker, type CrossEncoderOptions, type HttpRerankerOptions } from './rerank';
export { DEFAULT_ROUTING, loadRoutingConfig, routingConfigSchema, type RouteDecision, type RoutingConfig } from './routing';
export { buildCatalog, CatalogCache, catalogFromPayloads, type Catalog } from './catalog';
export { entitiesToFilter, extractEntitiesByRules, type Entities, type SelfQueryResult } from './self-query/entities';
export { extractDateRange } from './self-query/dates';
export { extractEntitiesWithLlm } from './self-query/llm';
export { expandQuery, hypotheticalAnswer, rewriteQuery, type RagChat } from './llm';
export { createApi, startApi, type ApiOptions, type RunningApi } from './server';
export { openApiDocument } from './openapi';
export { evaluateRetrieval, reportMarkdown, standardConfigs, type RetrievalEvalReport, type EvalConfig } from './eval/retrieval';
export { loadQuerySet, parseQuerySet, resolveRelevance, type LabelledQuery } from './eval/queries';
export { ndcgAtK, recallAtK, reciprocalRank } from './eval/metrics';
