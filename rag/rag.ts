/**
 * The retrieval-and-generation service: `search` (ranked chunks) and `ask` (sources + a streamed, cited answer),
 * built from its dependencies so the CLI, the HTTP API, evaluation and other services share one implementation.
 *
 *   const rag = createRag({ store, embedder, llm, reranker, tokenizer });
 *   const { hits } = await rag.search({ query: 'fetch API' });
 *   for await (const ev of rag.askStream({ question: 'What replaced XHR?' })) ...
 */
import type { Embedder } from '../lib/embedding/types';
import type { ChatMessage, ChatResult, Usage } from '../lib/llm/types';
import { parseInput } from '../lib/schemas/validate';
import type { VectorStore } from '../lib/vectorstore/types';
import { CatalogCache } from './catalog';
import { citedSources } from './citations';
import { compressSources, type CompressionReport, type TokenCounter } from './compress';
import { buildSources, type ContextSource } from './context';
import type { RagChat } from './llm';
import {
  askRequestSchema,
  type AskRequest,
  resolveAskOptions,
  resolveRetrievalOptions,
  type ResolvedAskOptions,
  searchRequestSchema,
  type SearchRequest,
} from './options';
import { answerPrompt } from './prompts';
import type { Reranker } from './rerank';
import { retrieve, timed, type RetrievalTrace, type RetrievedHit } from './retrieve';
import { DEFAULT_ROUTING, type RoutingConfig } from './routing';

export interface RagDeps {
  store: VectorStore;
  embedder: Embedder;
  /** Any OpenAI-compatible chat model (lib/llm ChatClient); without one, `ask` returns the context only. */
  llm?: RagChat;
  reranker?: Reranker;
  /** Counts tokens for the context budget: the generator's tokenizer (default: none, then compression is off). */
  tokenizer?: TokenCounter;
  routing?: RoutingConfig;
  /** Collections searched when a request names none. Default ["twinflow"]. */
  collections?: string[];
  /** Token budget of the context when compression is on. Default 2000. */
  contextTokens?: number;
  catalogTtlMs?: number;
  now?: () => Date;
}

export interface SearchResponse {
  query: string;
  retrieval: boolean;
  hits: RetrievedHit[];
  trace: RetrievalTrace;
}

export interface AskResult {
  question: string;
  /** The generated answer; undefined without an LLM. */
  answer?: string;
  /** Whether an LLM generated the answer. */
  generated: boolean;
  /** Why there is no answer (no LLM configured), or other notes for the reader. */
  message?: string;
  /** Every source given to the model, numbered as in the prompt. */
  sources: ContextSource[];
  /** The sources the answer cites, in citation order. */
  citations: ContextSource[];
  /** Citation numbers in the answer that name no source. */
  invalidCitations: number[];
  compression?: CompressionReport;
  usage?: Usage;
  model?: string;
  trace: RetrievalTrace & { generationMs?: number };
}

export type AskEvent =
  | { type: 'context'; sources: ContextSource[]; retrieval: boolean; compression?: CompressionReport }
  | { type: 'delta'; text: string }
  | { type: 'done'; result: AskResult };

export const NO_LLM_MESSAGE = 'No LLM is configured (set LLM_BASE_URL and LLM_MODEL), so no answer was generated: here is the retrieved context.';

export interface ContextResult {
  question: string;
  retrieval: boolean;
  sources: ContextSource[];
  compression?: CompressionReport;
  trace: RetrievalTrace;
}

export interface Rag {
  readonly deps: RagDeps;
  search(req: SearchRequest, signal?: AbortSignal): Promise<SearchResponse>;
  /** Retrieval and context building without generation: the numbered sources an LLM would get. */
  context(req: AskRequest, signal?: AbortSignal): Promise<ContextResult>;
  /** Streams the context, then the answer's pieces, then the result. */
  askStream(req: AskRequest, signal?: AbortSignal): AsyncGenerator<AskEvent, AskResult>;
  ask(req: AskRequest, signal?: AbortSignal): Promise<AskResult>;
  /** Forget cached catalogs (after a load changed a collection). */
  invalidate(collection?: string): void;
}

function directPrompt(question: string): ChatMessage[] {
  return [
    { role: 'system', content: 'Answer briefly and helpfully.' },
    { role: 'user', content: question },
  ];
}

export function createRag(deps: RagDeps): Rag {
  const catalogs = new CatalogCache(deps.store, deps.catalogTtlMs);
  const routing = deps.routing ?? DEFAULT_ROUTING;
  const collections = deps.collections ?? ['twinflow'];
  const caps = { llm: deps.llm !== undefined, reranker: deps.reranker !== undefined };
  const retrievalDeps = { ...deps, catalogs, routing };

  async function search(req: SearchRequest, signal?: AbortSignal): Promise<SearchResponse> {
    const parsed = parseInput(searchRequestSchema, req, 'search');
    const o = resolveRetrievalOptions(parsed, caps, collections);
    const r = await retrieve(retrievalDeps, parsed.query, o, signal);
    return { query: parsed.query, ...r };
  }

  async function buildContext(question: string, o: ResolvedAskOptions, signal?: AbortSignal): Promise<ContextResult> {
    const r = await retrieve(retrievalDeps, question, o, signal);
    let sources = await timed(r.trace, 'context', () => buildSources(deps.store, r.hits, o.smallToBig));
    let compression: CompressionReport | undefined;
    if (o.compressionTokens !== undefined && deps.tokenizer && sources.length) {
      const c = await timed(r.trace, 'compression', () =>
        compressSources(question, sources, { budget: o.compressionTokens!, tokenizer: deps.tokenizer!, embedder: deps.embedder }),
      );
      sources = c.sources;
      compression = c.report;
    }
    return { question, retrieval: r.retrieval, sources, compression, trace: r.trace };
  }

  async function context(req: AskRequest, signal?: AbortSignal): Promise<ContextResult> {
    const parsed = parseInput(askRequestSchema, req, 'ask');
    return buildContext(parsed.question, resolveAskOptions(parsed, caps, collections, deps.contextTokens ?? 2000), signal);
  }

  async function* askStream(req: AskRequest, signal?: AbortSignal): AsyncGenerator<AskEvent, AskResult> {
    const parsed = parseInput(askRequestSchema, req, 'ask');
    const o: ResolvedAskOptions = resolveAskOptions(parsed, caps, collections, deps.contextTokens ?? 2000);
    const question = parsed.question;
    const { sources, compression, retrieval, trace } = await buildContext(question, o, signal);
    yield { type: 'context', sources, retrieval, compression };

    const base = { question, sources, compression, trace };
    if (!deps.llm) {
      const message = retrieval ? NO_LLM_MESSAGE : 'No LLM is configured, and routing decided this question needs no retrieval: nothing to return.';
      const result: AskResult = { ...base, generated: false, message, citations: [], invalidCitations: [] };
      yield { type: 'done', result };
      return result;
    }
    const messages = retrieval ? answerPrompt(question, sources) : directPrompt(question);
    const started = performance.now();
    const stream = deps.llm.stream(messages, { temperature: o.temperature ?? 0.2, maxTokens: o.maxAnswerTokens, signal });
    let answer = '';
    let final: ChatResult;
    for (;;) {
      const n = await stream.next();
      if (n.done) {
        final = n.value;
        break;
      }
      answer += n.value.content;
      yield { type: 'delta', text: n.value.content };
    }
    const { cited, invalid } = citedSources(answer, sources);
    const result: AskResult = {
      ...base,
      answer,
      generated: true,
      message: retrieval && sources.length === 0 ? 'Nothing relevant was found in the collection.' : undefined,
      citations: cited,
      invalidCitations: invalid,
      usage: final.usage,
      model: final.model,
      trace: { ...trace, generationMs: Math.round(performance.now() - started) },
    };
    yield { type: 'done', result };
    return result;
  }

  async function ask(req: AskRequest, signal?: AbortSignal): Promise<AskResult> {
    const it = askStream(req, signal);
    for (;;) {
      const n = await it.next();
      if (n.done) return n.value;
    }
  }

  return { deps, search, context, askStream, ask, invalidate: (c) => catalogs.invalidate(c) };
}
