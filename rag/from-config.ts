/**
 * A Rag wired from the configuration: the configured vector store and embedder, the LLM when LLM_BASE_URL or
 * LLM_API_KEY is set, the re-ranker when RERANKER_URL or RERANKER_MODEL is set, the generator's tokenizer for the
 * context budget (RAG_TOKENIZER, default the embedding model's), routes from RAG_ROUTES.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../lib/config';
import { createEmbedder } from '../lib/embedding';
import type { Embedder } from '../lib/embedding/types';
import { chatClientFromConfig } from '../lib/llm';
import { loadTokenizer } from '../lib/text/tokenizer';
import { createVectorStore } from '../lib/vectorstore';
import type { VectorStore } from '../lib/vectorstore/types';
import { createRag, type Rag, type RagDeps } from './rag';
import { CrossEncoderReranker, HttpReranker, type Reranker } from './rerank';
import { DEFAULT_ROUTING, loadRoutingConfig } from './routing';

export interface ConfiguredRag {
  rag: Rag;
  /** What is on and off, in words (printed by `twinflow serve` and `eval`). */
  summary: string[];
  close(): Promise<void>;
}

/** A local folder (absolute, relative, or under the models folder) or, failing that, a Hugging Face hub id. */
export function resolveModelRef(model: string, modelsDir: string): string {
  if (fs.existsSync(model)) return path.resolve(model);
  const inModels = path.join(modelsDir, model);
  if (fs.existsSync(inModels)) return inModels;
  return model;
}

export function rerankerFromConfig(config: Config): Reranker | undefined {
  const r = config.rag.reranker;
  if (r.url) return new HttpReranker({ url: r.url, api: r.api, apiKey: r.apiKey, model: r.model });
  if (r.model) return new CrossEncoderReranker({ model: resolveModelRef(r.model, config.embedding.modelsDir), threads: r.threads });
  return undefined;
}

export async function createRagFromConfig(config: Config, overrides: Partial<RagDeps> & { store?: VectorStore; embedder?: Embedder } = {}): Promise<ConfiguredRag> {
  const summary: string[] = [];
  const store = overrides.store ?? createVectorStore(config);
  const embedder = overrides.embedder ?? (await createEmbedder(config));
  const llmConfigured = config.llm.baseUrl !== undefined || config.llm.apiKey !== undefined;
  const llm = overrides.llm ?? (llmConfigured ? chatClientFromConfig(config.llm) : undefined);
  const reranker = overrides.reranker ?? rerankerFromConfig(config);
  let tokenizer = overrides.tokenizer;
  if (!tokenizer) {
    const name = config.rag.tokenizer ?? config.embedding.model;
    try {
      tokenizer = await loadTokenizer(name, { modelsDir: config.embedding.modelsDir, allowRemote: config.rag.tokenizer !== undefined });
    } catch (err) {
      summary.push(`prompt compression: off (no tokenizer: ${(err as Error).message}; set RAG_TOKENIZER)`);
    }
  }
  const routing = overrides.routing ?? (config.rag.routesFile ? loadRoutingConfig(config.rag.routesFile) : DEFAULT_ROUTING);
  const rag = createRag({
    store,
    embedder,
    llm,
    reranker,
    tokenizer,
    routing,
    collections: overrides.collections ?? config.rag.collections,
    contextTokens: overrides.contextTokens ?? config.rag.contextTokens,
    ...(overrides.now && { now: overrides.now }),
  });
  summary.unshift(
    `store: ${store.kind}, collections ${rag.deps.collections!.join(', ')}`,
    `embedder: ${embedder.modelId}`,
    `llm: ${llm ? `${llm.model}${config.llm.baseUrl ? ` at ${config.llm.baseUrl}` : ''}` : 'none (ask returns the retrieved context)'}`,
    `re-ranker: ${reranker ? reranker.id : 'none'}`,
    `routes: ${routing.routes.map((r) => r.label).join(', ')}${config.rag.routesFile ? ` (${config.rag.routesFile})` : ''}`,
  );
  if (tokenizer) summary.push(`context budget: ${config.rag.contextTokens} tokens (${config.rag.tokenizer ?? config.embedding.model} tokenizer)`);
  return {
    rag,
    summary,
    // Closes only what it created: a store, embedder or re-ranker passed in belongs to the caller (e.g. a worker's).
    close: async () => {
      if (!overrides.reranker) await reranker?.close?.();
      if (!overrides.embedder) await embedder.close?.();
      if (!overrides.store) await store.close();
    },
  };
}
