/**
 * Retrieval: pre-retrieval (routing, self-query, rewriting, expansion, HyDE), search through the VectorStore
 * (vector, keyword or hybrid, filters pushed down), fusion of every list with RRF, and re-ranking. Each step is
 * switched by the resolved options and recorded in a trace (what it did and how long it took).
 *
 * An LLM step that fails does not fail the search: it is skipped with a warning in the trace (the question itself is
 * still searched). Store and embedder errors do fail it.
 */
import type { Embedder } from '../lib/embedding/types';
import { reciprocalRankFusion } from '../lib/vectorstore/fusion';
import type { ChunkPayload, Filter, Hit, VectorStore } from '../lib/vectorstore/types';
import type { CatalogCache, Catalog } from './catalog';
import { expandQuery, hypotheticalAnswer, rewriteQuery, type RagChat } from './llm';
import type { ResolvedRetrievalOptions } from './options';
import { rerankItems, type Reranker } from './rerank';
import { decide, routeByLlm, routeByRules, type RouteDecision, type RoutingConfig } from './routing';
import { andFilters, entitiesToFilter, extractEntitiesByRules, type SelfQueryResult } from './self-query/entities';
import { extractEntitiesWithLlm } from './self-query/llm';

export interface RetrievedHit {
  id: string;
  collection: string;
  /** Rank score of the list it came from, or the fused (RRF) score when several lists were fused. */
  score: number;
  /** The cross-encoder's score, when re-ranked. */
  rerankScore?: number;
  text: string;
  payload: ChunkPayload;
}

export interface RetrievalTrace {
  query: string;
  collections: string[];
  route?: RouteDecision;
  selfQuery?: SelfQueryResult & { method: 'rules' | 'llm' };
  /** The filter pushed down to the store (explicit AND routing AND self-query). */
  filter?: Filter;
  rewritten?: string;
  expansions?: string[];
  hyde?: string;
  /** Ranked lists fused (collections × query variants). */
  lists: number;
  candidates: number;
  reranker?: string;
  timings: Record<string, number>;
  warnings: string[];
}

export interface RetrievalResult {
  /** False when routing decided that the question needs no retrieval. */
  retrieval: boolean;
  hits: RetrievedHit[];
  trace: RetrievalTrace;
}

export interface RetrievalDeps {
  store: VectorStore;
  embedder: Embedder;
  catalogs: CatalogCache;
  routing: RoutingConfig;
  llm?: RagChat;
  reranker?: Reranker;
  now?: () => Date;
}

export class CollectionNotFoundError extends Error {
  override name = 'CollectionNotFoundError';
  constructor(readonly collection: string) {
    super(`collection ${JSON.stringify(collection)} does not exist (load it with \`twinflow ingest\`)`);
  }
}

/** Times a step into the trace. */
export async function timed<T>(trace: RetrievalTrace, step: string, fn: () => Promise<T>): Promise<T> {
  const t = performance.now();
  try {
    return await fn();
  } finally {
    trace.timings[step] = Math.round((performance.now() - t) * 10) / 10;
  }
}

/** Runs an optional LLM step; a failure becomes a warning and `undefined` (a cancelled request stays cancelled). */
async function optional<T>(trace: RetrievalTrace, step: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T | undefined> {
  try {
    return await timed(trace, step, fn);
  } catch (err) {
    if (signal?.aborted) throw err;
    trace.warnings.push(`${step} skipped: ${(err as Error).message}`);
    return undefined;
  }
}

const SEP = '\u0000';

export async function retrieve(deps: RetrievalDeps, question: string, o: ResolvedRetrievalOptions, signal?: AbortSignal): Promise<RetrievalResult> {
  const started = performance.now();
  const trace: RetrievalTrace = { query: question, collections: o.collections, lists: 0, candidates: 0, timings: {}, warnings: [] };
  const llm = deps.llm;
  const finish = (result: Omit<RetrievalResult, 'trace'>): RetrievalResult => {
    trace.timings.total = Math.round((performance.now() - started) * 10) / 10;
    return { ...result, trace };
  };

  // Routing first: it may change the collections, or end retrieval here.
  let route: { route: RoutingConfig['routes'][number]; reason: string; method: 'rules' | 'llm' } | undefined;
  if (o.routing === 'rules') route = { ...routeByRules(question, deps.routing), method: 'rules' };
  else if (o.routing === 'llm' && llm) {
    const r = await optional(trace, 'routing', () => routeByLlm(llm, question, deps.routing, signal), signal);
    route = r ? { ...r, method: 'llm' } : { ...routeByRules(question, deps.routing), method: 'rules' };
  }
  const collections = route?.route.collections ?? o.collections;
  trace.collections = collections;
  try {
    return await retrieveFrom(deps, question, o, collections, route, trace, finish, signal);
  } catch (err) {
    // Only a failure pays for the existence check; it turns a missing collection into a clear error.
    await checkCollections(deps.store, collections);
    throw err;
  }
}

async function retrieveFrom(
  deps: RetrievalDeps,
  question: string,
  o: ResolvedRetrievalOptions,
  collections: string[],
  route: { route: RoutingConfig['routes'][number]; reason: string; method: 'rules' | 'llm' } | undefined,
  trace: RetrievalTrace,
  finish: (result: Omit<RetrievalResult, 'trace'>) => RetrievalResult,
  signal?: AbortSignal,
): Promise<RetrievalResult> {
  const llm = deps.llm;
  const needCatalog = o.selfQuery !== 'off' || route?.route.sourceTypes !== undefined;
  const catalog: Catalog | undefined = needCatalog ? await timed(trace, 'catalog', () => deps.catalogs.forCollections(collections)) : undefined;
  if (route) {
    trace.route = decide(route.route, route.reason, route.method, catalog);
    if (!trace.route.retrieve) return finish({ retrieval: false, hits: [] });
  }

  // Self-query, rewriting, expansion and HyDE are independent: run them together.
  const now = deps.now?.() ?? new Date();
  const [selfQuery, rewritten, expansions, hyde] = await Promise.all([
    o.selfQuery === 'off' || !catalog ? undefined : selfQueryFilter(trace, o.selfQuery, llm, question, catalog, now, signal),
    o.rewrite && llm ? optional(trace, 'rewrite', () => rewriteQuery(llm, question, signal), signal) : undefined,
    o.expansion > 0 && llm ? optional(trace, 'expansion', () => expandQuery(llm, question, o.expansion, signal), signal) : undefined,
    o.hyde && llm ? optional(trace, 'hyde', () => hypotheticalAnswer(llm, question, signal), signal) : undefined,
  ]);
  if (selfQuery) trace.selfQuery = selfQuery;
  if (rewritten) trace.rewritten = rewritten;
  if (expansions?.length) trace.expansions = expansions;
  if (hyde) trace.hyde = hyde;
  const filter = andFilters(o.filter, trace.route?.filter, selfQuery?.filter);
  if (filter) trace.filter = filter;

  const queries = [rewritten ?? question, ...(expansions ?? [])];
  const needVectors = o.mode !== 'keyword';
  const [queryVectors, hydeVector] = needVectors
    ? await timed(trace, 'embed', () =>
        Promise.all([Promise.all(queries.map((q) => deps.embedder.embedQuery(q))), hyde ? deps.embedder.embed([hyde]).then((v) => v[0]) : undefined]),
      )
    : [[] as number[][], undefined];

  const candidates = Math.max(o.candidates, o.limit);
  const lists = await timed(trace, 'search', () =>
    Promise.all(
      collections.flatMap((collection) => {
        const tag = (hits: Hit[]) => hits.map((h) => ({ ...h, id: `${collection}${SEP}${h.id}` }));
        const searches = queries.map((text, i) => {
          if (o.mode === 'keyword') return deps.store.keywordSearch(collection, { query: text, limit: candidates, filter });
          if (o.mode === 'vector') return deps.store.search(collection, { vector: queryVectors[i]!, limit: candidates, filter });
          return deps.store.hybridSearch(collection, { vector: queryVectors[i]!, query: text, limit: candidates, filter, fusion: o.fusion, candidates });
        });
        if (hydeVector) searches.push(deps.store.search(collection, { vector: hydeVector, limit: candidates, filter }));
        return searches.map((p) => p.then(tag));
      }),
    ),
  );
  trace.lists = lists.length;
  const fused = lists.length === 1 ? lists[0]! : reciprocalRankFusion(lists, { limit: candidates });
  const pool: RetrievedHit[] = fused.slice(0, candidates).map((h) => {
    const at = h.id.indexOf(SEP);
    return { id: h.id.slice(at + 1), collection: h.id.slice(0, at), score: h.score, text: h.text, payload: h.payload };
  });
  trace.candidates = pool.length;

  if (o.rerank && deps.reranker && pool.length > 0) {
    const reranker = deps.reranker;
    trace.reranker = reranker.id;
    // The cross-encoder judges relevance to what the user asked, not to a reformulation.
    const ranked = await timed(trace, 'rerank', () => rerankItems(reranker, question, pool, o.limit, signal));
    return finish({ retrieval: true, hits: ranked });
  }
  return finish({ retrieval: true, hits: pool.slice(0, o.limit) });
}

/** Self-query by LLM, falling back to the rules when the LLM step fails; either way validated by the catalog. */
async function selfQueryFilter(
  trace: RetrievalTrace,
  method: 'rules' | 'llm',
  llm: RagChat | undefined,
  question: string,
  catalog: Catalog,
  now: Date,
  signal?: AbortSignal,
): Promise<SelfQueryResult & { method: 'rules' | 'llm' }> {
  if (method === 'llm' && llm) {
    const entities = await optional(trace, 'selfQuery', () => extractEntitiesWithLlm(llm, question, catalog, now, signal), signal);
    if (entities) return { ...entitiesToFilter(entities, catalog), method: 'llm' };
  }
  return timed(trace, 'selfQuery', async () => ({ ...entitiesToFilter(extractEntitiesByRules(question, catalog, now), catalog), method: 'rules' as const }));
}

async function checkCollections(store: VectorStore, collections: string[]): Promise<void> {
  const infos = await Promise.all(collections.map((c) => store.describe(c)));
  const missing = collections.find((_, i) => infos[i] === undefined);
  if (missing !== undefined) throw new CollectionNotFoundError(missing);
}
