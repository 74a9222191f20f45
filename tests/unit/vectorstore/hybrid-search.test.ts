/** hybridSearch (hybrid.ts): the one hybrid search both stores delegate to, checked against a fake store. */
import { describe, expect, it } from 'vitest';
import { fuseHybrid } from '../../../lib/vectorstore/fusion';
import { hybridSearch } from '../../../lib/vectorstore/hybrid';
import type { ChunkPayload, Filter, Hit, KeywordRequest, SearchRequest } from '../../../lib/vectorstore/types';

const hit = (id: string, score: number): Hit => ({ id, score, text: id, payload: {} as ChunkPayload });

/** A store whose halves are fixed lists, recording what each half was asked. */
function fakeStore() {
  const asked: { search: SearchRequest[]; keyword: KeywordRequest[] } = { search: [], keyword: [] };
  const vectorHalf = [hit('v1', 0.9), hit('both', 0.8), hit('v2', 0.5)];
  const keywordHalf = [hit('both', 9), hit('k1', 3)];
  return {
    asked,
    vectorHalf,
    keywordHalf,
    store: {
      search: async (_name: string, req: SearchRequest) => (asked.search.push(req), vectorHalf.slice(0, req.limit)),
      keywordSearch: async (_name: string, req: KeywordRequest) => (asked.keyword.push(req), keywordHalf.slice(0, req.limit)),
    },
  };
}

describe('hybridSearch', () => {
  it('asks both halves for 4 × limit candidates with the same filter and fuses them with fuseHybrid (rrf by default)', async () => {
    const f = fakeStore();
    const filter: Filter = { must: [{ field: 'sourceId', eq: 'notes' }] };
    const hits = await hybridSearch(f.store, 'c', { vector: [1, 0], query: 'q', limit: 2, filter });
    expect(f.asked.search).toEqual([{ vector: [1, 0], limit: 8, filter }]);
    expect(f.asked.keyword).toEqual([{ query: 'q', limit: 8, filter }]);
    expect(hits).toEqual(fuseHybrid(f.vectorHalf, f.keywordHalf, 'rrf', 2));
    expect(hits.map((h) => h.id)).toEqual(['both', 'v1']);
  });

  it('takes an explicit candidate count and alpha fusion', async () => {
    const f = fakeStore();
    const hits = await hybridSearch(f.store, 'c', { vector: [1, 0], query: 'q', limit: 3, candidates: 2, fusion: { alpha: 1 } });
    expect(f.asked.search[0]!.limit).toBe(2);
    expect(f.asked.keyword[0]!.limit).toBe(2);
    expect(hits).toEqual(fuseHybrid(f.vectorHalf.slice(0, 2), f.keywordHalf.slice(0, 2), { alpha: 1 }, 3));
  });

  it('refuses bad limits, candidate counts and alphas before asking either half', async () => {
    const f = fakeStore();
    const base = { vector: [1, 0], query: 'q', limit: 2 };
    await expect(hybridSearch(f.store, 'c', { ...base, limit: 0 })).rejects.toThrow('Invalid limit 0: expected a positive integer');
    await expect(hybridSearch(f.store, 'c', { ...base, candidates: 1.5 })).rejects.toThrow('Invalid candidates 1.5: expected a positive integer');
    await expect(hybridSearch(f.store, 'c', { ...base, fusion: { alpha: 1.5 } })).rejects.toThrow('Invalid fusion alpha 1.5: expected a number in [0, 1]');
    await expect(hybridSearch(f.store, 'c', { ...base, filter: { must: [{ field: 'nope', eq: 'x' }] } as never })).rejects.toThrow();
    expect(f.asked.search).toEqual([]);
    expect(f.asked.keyword).toEqual([]);
  });

  it('answers a filter that matches nothing with no hits and no searches', async () => {
    const f = fakeStore();
    const hits = await hybridSearch(f.store, 'c', { vector: [1, 0], query: 'q', limit: 2, filter: { must: [{ field: 'sourceId', in: [] }] } });
    expect(hits).toEqual([]);
    expect(f.asked.search).toEqual([]);
  });
});
