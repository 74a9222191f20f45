/** CachedEmbedder over the in-memory cache and over the cache kept in a real LanceDB store. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CachedEmbedder, cacheCollectionName, cachePointId, InMemoryEmbeddingCache, VectorStoreEmbeddingCache } from '../../../lib/embedding/cache';
import type { Embedder } from '../../../lib/embedding/types';
import { sha256 } from '../../../lib/hash';
import { LanceDBStore } from '../../../lib/vectorstore/lancedb';
import { fakeEmbedding } from '../../helpers/openai-server';

/** A deterministic embedder that records what it was asked to embed. */
class RecordingEmbedder implements Embedder {
  readonly dimension = 8;
  calls: string[][] = [];
  queries: string[] = [];
  constructor(readonly modelId = 'test:fake-8') {}
  async embed(texts: string[]) {
    this.calls.push(texts);
    return texts.map((t) => fakeEmbedding(`${this.modelId} ${t}`, this.dimension));
  }
  async embedQuery(text: string) {
    this.queries.push(text);
    return fakeEmbedding(text, this.dimension);
  }
}

describe('CachedEmbedder (in-memory cache)', () => {
  it('embeds only misses, reuses hits, and reports both', async () => {
    const inner = new RecordingEmbedder();
    const cached = new CachedEmbedder(inner, new InMemoryEmbeddingCache());
    const first = await cached.embedWithStats(['alpha', 'beta']);
    expect(first).toMatchObject({ embedded: 2, reused: 0 });
    const second = await cached.embedWithStats(['beta', 'gamma', 'alpha']);
    expect(second).toMatchObject({ embedded: 1, reused: 2 });
    expect(inner.calls).toEqual([['alpha', 'beta'], ['gamma']]);
    expect(second.vectors).toEqual([first.vectors[1], await inner.embed(['gamma']).then((v) => v[0]), first.vectors[0]]);
  });

  it('embeds a text repeated in one call once, and counts every input', async () => {
    const inner = new RecordingEmbedder();
    const cached = new CachedEmbedder(inner, new InMemoryEmbeddingCache());
    const out = await cached.embedWithStats(['same', 'other', 'same']);
    expect(inner.calls).toEqual([['same', 'other']]);
    expect(out).toMatchObject({ embedded: 3, reused: 0 });
    expect(out.vectors[0]).toEqual(out.vectors[2]);
  });

  it("keys on the caller's hashes when given (chunkHash), and checks their count", async () => {
    const inner = new RecordingEmbedder();
    const cache = new InMemoryEmbeddingCache();
    const cached = new CachedEmbedder(inner, cache);
    await cached.embedWithStats(['text one'], ['h1']);
    expect((await cached.embedWithStats(['text one, edited'], ['h1'])).reused).toBe(1);
    expect((await cached.embedWithStats(['text one'])).reused).toBe(0); // sha256(text) is another key
    await expect(cached.embedWithStats(['a', 'b'], ['h'])).rejects.toThrow(/1 hashes for 2 texts/);
    expect(await cached.embedWithStats([])).toEqual({ vectors: [], embedded: 0, reused: 0 });
  });

  it('keeps models apart and does not cache queries', async () => {
    const cache = new InMemoryEmbeddingCache();
    const a = new CachedEmbedder(new RecordingEmbedder('model-a'), cache);
    const bInner = new RecordingEmbedder('model-b');
    const b = new CachedEmbedder(bInner, cache);
    await a.embed(['shared text']);
    expect((await b.embedWithStats(['shared text'])).reused).toBe(0);
    expect(bInner.calls).toEqual([['shared text']]);
    await b.embedQuery('a question');
    expect(bInner.queries).toEqual(['a question']);
    expect(cache.size).toBe(2);
    expect(a.modelId).toBe('model-a');
    expect(a.dimension).toBe(8);
  });
});

describe('VectorStoreEmbeddingCache (LanceDB)', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'twinflow-embcache-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('stores vectors in _embcache_<hash> by UUIDv5(model, hash), shared by every embedder on the store', async () => {
    const store = new LanceDBStore({ uri: root });
    const worker1 = new RecordingEmbedder();
    const first = await new CachedEmbedder(worker1, new VectorStoreEmbeddingCache(store)).embedWithStats(['chunk a', 'chunk b']);
    expect(first).toMatchObject({ embedded: 2, reused: 0 });

    const name = cacheCollectionName(worker1.modelId);
    expect(name).toBe(`_embcache_${sha256(worker1.modelId).slice(0, 16)}`);
    expect(await store.describe(name)).toMatchObject({ dimension: 8, count: 2 });
    const [point] = await store.retrieve(name, [cachePointId(worker1.modelId, sha256('chunk a'))], { withVector: true });
    expect(point?.payload).toMatchObject({ chunkHash: sha256('chunk a'), model: worker1.modelId });
    expect(point?.text).toBe('');

    // Another worker (its own store handle and embedder) finds them.
    const worker2 = new RecordingEmbedder();
    const otherStore = new LanceDBStore({ uri: root });
    const second = await new CachedEmbedder(worker2, new VectorStoreEmbeddingCache(otherStore)).embedWithStats(['chunk b', 'chunk c', 'chunk a']);
    expect(second).toMatchObject({ embedded: 1, reused: 2 });
    expect(worker2.calls).toEqual([['chunk c']]);
    second.vectors[0]!.forEach((x, i) => expect(x).toBeCloseTo(first.vectors[1]![i]!, 6));
    second.vectors[2]!.forEach((x, i) => expect(x).toBeCloseTo(first.vectors[0]![i]!, 6));
    expect(await store.count(name)).toBe(3);

    // Another model gets its own collection.
    const other = new RecordingEmbedder('test:other-model');
    expect((await new CachedEmbedder(other, new VectorStoreEmbeddingCache(store)).embedWithStats(['chunk a'])).reused).toBe(0);
    expect(await store.count(cacheCollectionName('test:other-model'))).toBe(1);
    await Promise.all([store.close(), otherStore.close()]);
  });
});
