/**
 * The embedding cache: a vector is computed once per (model, text). CachedEmbedder looks up each text's hash for its
 * model, embeds only the misses, writes them back and reports how many it embedded and reused.
 *
 * The production cache lives in the vector store itself, so every worker of a cluster shares it and a retried
 * activity finds the batches its failed attempt already embedded: collection `_embcache_<sha256(modelId)[:16]>`,
 * point id UUIDv5(modelId, text hash), vector = the embedding, a minimal payload and no text.
 */
import { v5 as uuidv5 } from 'uuid';
import { sha256 } from '../hash';
import type { ChunkPayload, VectorStore } from '../vectorstore/types';
import type { Embedder } from './types';

/** Vectors by text hash, for one model. */
export interface EmbeddingCache {
  /** The cached vectors of those hashes that have one. */
  get(modelId: string, dimension: number, hashes: string[]): Promise<Map<string, number[]>>;
  put(modelId: string, dimension: number, entries: Array<{ hash: string; vector: number[] }>): Promise<void>;
}

/** A process-local cache (unit tests, one-off scripts). */
export class InMemoryEmbeddingCache implements EmbeddingCache {
  private readonly entries = new Map<string, number[]>();

  async get(modelId: string, _dimension: number, hashes: string[]): Promise<Map<string, number[]>> {
    const found = new Map<string, number[]>();
    for (const h of hashes) {
      const v = this.entries.get(`${modelId}\0${h}`);
      if (v) found.set(h, v);
    }
    return found;
  }

  async put(modelId: string, _dimension: number, entries: Array<{ hash: string; vector: number[] }>): Promise<void> {
    for (const e of entries) this.entries.set(`${modelId}\0${e.hash}`, e.vector);
  }

  get size(): number {
    return this.entries.size;
  }
}

/** Namespace of cache point ids (fixed, arbitrary). */
const CACHE_NAMESPACE = '0d5f7a3e-2b4c-4e8f-9c1a-7e6b5d4c3a21';

/** The cache collection of a model: one per model id, so models never mix and a model's cache drops as a whole. */
export function cacheCollectionName(modelId: string): string {
  return `_embcache_${sha256(modelId).slice(0, 16)}`;
}

export function cachePointId(modelId: string, hash: string): string {
  return uuidv5(`${modelId}\0${hash}`, CACHE_NAMESPACE);
}

/** The cache kept in the vector store (shared by every worker that uses the same store). */
export class VectorStoreEmbeddingCache implements EmbeddingCache {
  private readonly ready = new Map<string, Promise<void>>();

  constructor(private readonly store: VectorStore) {}

  private ensure(modelId: string, dimension: number): Promise<string> {
    const name = cacheCollectionName(modelId);
    let pending = this.ready.get(name);
    if (!pending) {
      pending = this.store.ensureCollection(name, { dimension, distance: 'cosine' });
      this.ready.set(name, pending);
      pending.catch(() => this.ready.delete(name));
    }
    return pending.then(() => name);
  }

  async get(modelId: string, dimension: number, hashes: string[]): Promise<Map<string, number[]>> {
    const found = new Map<string, number[]>();
    if (hashes.length === 0) return found;
    const name = await this.ensure(modelId, dimension);
    const byId = new Map(hashes.map((h) => [cachePointId(modelId, h), h]));
    for (const point of await this.store.retrieve(name, [...byId.keys()], { withVector: true })) {
      const hash = byId.get(point.id);
      // The payload records model and hash too, so a collision of the short collection name could not mix models.
      if (hash && 'vector' in point && point.payload.model === modelId && point.payload.chunkHash === hash) found.set(hash, point.vector);
    }
    return found;
  }

  async put(modelId: string, dimension: number, entries: Array<{ hash: string; vector: number[] }>): Promise<void> {
    if (entries.length === 0) return;
    const name = await this.ensure(modelId, dimension);
    await this.store.upsert(
      name,
      entries.map(({ hash, vector }) => ({ id: cachePointId(modelId, hash), vector, text: '', payload: cachePayload(modelId, hash) })),
    );
  }
}

/** The least a ChunkPayload can be: what the cache needs is the model and the hash. */
function cachePayload(modelId: string, hash: string): ChunkPayload {
  return {
    docId: '_embcache',
    chunkIndex: 0,
    parentId: '',
    sourceId: '_embcache',
    sourceType: 'folder',
    location: '',
    tags: [],
    headingPath: '',
    chunkHash: hash,
    contentHash: '',
    model: modelId,
  };
}

export interface EmbedStats {
  /** One vector per input text, in input order. */
  vectors: number[][];
  /** Inputs whose vector was computed by this call (a text repeated in one call is computed once). */
  embedded: number;
  /** Inputs whose vector came from the cache. */
  reused: number;
}

/** An embedder that reports cache use: `embedded + reused` is always the number of inputs. */
export interface StatsEmbedder extends Embedder {
  /** `hashes[i]` is the sha256 of `texts[i]` when the caller has it already (chunks carry it as chunkHash). */
  embedWithStats(texts: string[], hashes?: string[]): Promise<EmbedStats>;
}

export class CachedEmbedder implements StatsEmbedder {
  constructor(
    readonly inner: Embedder,
    private readonly cache: EmbeddingCache,
  ) {}

  get modelId(): string {
    return this.inner.modelId;
  }

  get dimension(): number {
    return this.inner.dimension;
  }

  async embed(texts: string[]): Promise<number[][]> {
    return (await this.embedWithStats(texts)).vectors;
  }

  /** Queries are not cached: they are rarely repeated, and a search should not write to the store. */
  embedQuery(text: string): Promise<number[]> {
    return this.inner.embedQuery(text);
  }

  async embedWithStats(texts: string[], hashes?: string[]): Promise<EmbedStats> {
    if (hashes !== undefined && hashes.length !== texts.length) {
      throw new Error(`embedWithStats: ${hashes.length} hashes for ${texts.length} texts`);
    }
    if (texts.length === 0) return { vectors: [], embedded: 0, reused: 0 };
    const keys = hashes ?? texts.map((t) => sha256(t));
    const { modelId, dimension } = this;
    const cached = await this.cache.get(modelId, dimension, [...new Set(keys)]);
    // Each distinct missing text is embedded once, however often it appears.
    const missing = new Map<string, string>();
    keys.forEach((k, i) => {
      if (!cached.has(k) && !missing.has(k)) missing.set(k, texts[i]!);
    });
    const fresh = new Map<string, number[]>();
    if (missing.size > 0) {
      const vectors = await this.inner.embed([...missing.values()]);
      [...missing.keys()].forEach((k, i) => fresh.set(k, vectors[i]!));
      await this.cache.put(modelId, dimension, [...fresh].map(([hash, vector]) => ({ hash, vector })));
    }
    let reused = 0;
    const vectors = keys.map((k) => {
      const hit = cached.get(k);
      if (hit) reused += 1;
      return hit ?? fresh.get(k)!;
    });
    return { vectors, embedded: texts.length - reused, reused };
  }

  close(): Promise<void> {
    return this.inner.close?.() ?? Promise.resolve();
  }
}
