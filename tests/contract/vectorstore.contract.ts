/**
 * The VectorStore contract: behaviour every store must show, run against each implementation by its own test file
 * (tests/integration/vectorstore/*.test.ts). Vectors are small (dimension 8) and deterministic, so expectations are
 * exact and the suite runs in seconds.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pointIdFor } from '../../lib/hash';
import { FilterError } from '../../lib/vectorstore/filter';
import { fuseHybrid } from '../../lib/vectorstore/fusion';
import type { ChunkPayload, Filter, Point, VectorStore } from '../../lib/vectorstore/types';
import { DIM, makePoint, vec } from './points';

export { DIM, makePoint, vec, type PointSpec } from './points';

export interface ContractOptions {
  /** Points per scroll page the store was built with, so the scroll test writes more than one page. */
  scrollPageSize: number;
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

export function runVectorStoreContract(name: string, makeStore: () => Promise<VectorStore> | VectorStore, options: ContractOptions): void {
  describe(`VectorStore contract: ${name}`, () => {
    let store: VectorStore;
    const prefix = `contract_${randomUUID().slice(0, 8)}`;
    const created: string[] = [];
    let n = 0;
    /** A fresh collection for one test. */
    const fresh = async (dimension = DIM) => {
      const collection = `${prefix}_${++n}`;
      created.push(collection);
      await store.ensureCollection(collection, { dimension, distance: 'cosine' });
      return collection;
    };
    const ids = (hits: Array<{ id: string }>) => hits.map((h) => h.id);
    const docIdsOf = (hits: Array<{ payload: ChunkPayload }>) => [...new Set(hits.map((h) => h.payload.docId))].sort();

    beforeAll(async () => {
      store = await makeStore();
    });
    afterAll(async () => {
      for (const c of created) await store.dropCollection(c).catch(() => undefined);
      await store.close();
    });

    it('creates, describes and lists a collection; refuses another dimension', async () => {
      const c = await fresh();
      await store.ensureCollection(c, { dimension: DIM, distance: 'cosine' }); // idempotent
      expect(await store.describe(c)).toEqual({ name: c, dimension: DIM, distance: 'cosine', count: 0 });
      await expect(store.ensureCollection(c, { dimension: 16, distance: 'cosine' })).rejects.toThrow(/dimension 8, not 16/);
      expect(await store.describe(`${prefix}_missing`)).toBeUndefined();
      const listed = await store.listCollections();
      expect(listed).toContain(c);
      expect(listed.some((l) => l.endsWith('__parents'))).toBe(false);
      await expect(store.ensureCollection('bad name/..', { dimension: DIM, distance: 'cosine' })).rejects.toThrow(/Invalid collection name/);
    });

    it('upserts idempotently and replaces a point by id', async () => {
      const c = await fresh();
      const points = [0, 1, 2].map((i) => makePoint({ docId: 'doc-a', chunkIndex: i, vector: vec(i) }));
      await store.upsert(c, points);
      await store.upsert(c, points);
      expect(await store.count(c)).toBe(3);
      await store.upsert(c, [{ ...points[1]!, text: 'rewritten text' }]);
      expect(await store.count(c)).toBe(3);
      const [got] = await store.retrieve(c, [points[1]!.id]);
      expect(got?.text).toBe('rewritten text');
      const wrong = makePoint({ docId: 'doc-b', vector: [1, 0, 0] });
      await expect(store.upsert(c, [wrong])).rejects.toThrow(/3 dimensions but the collection has 8/);
      await expect(store.upsert(`${prefix}_nope`, points)).rejects.toThrow();
    });

    it('retrieves points with and without vectors, payload intact, missing ids left out', async () => {
      const c = await fresh();
      const full = makePoint({
        docId: 'doc-full',
        vector: vec(3, 4, 0.5),
        text: 'full payload',
        payload: { url: 'https://example.test/full', title: 'Full', author: 'Ada', publishedAt: '2024-05-01T00:00:00.000Z', publishedTs: Date.parse('2024-05-01'), language: 'en', tags: ['x', 'y'], path: 'a/b.md' },
      });
      const bare = makePoint({ docId: 'doc-bare', vector: vec(5) });
      await store.upsert(c, [full, bare]);
      const withVectors = await store.retrieve(c, [full.id, bare.id, pointIdFor('doc-none', 0)], { withVector: true });
      expect(withVectors).toHaveLength(2);
      const byId = new Map(withVectors.map((p) => [p.id, p]));
      const gotFull = byId.get(full.id) as Point;
      expect(gotFull.text).toBe('full payload');
      expect(gotFull.payload).toEqual(full.payload);
      expect(byId.get(bare.id)?.payload).toEqual(bare.payload);
      gotFull.vector.forEach((x, i) => expect(x).toBeCloseTo(full.vector[i]!, 5));
      const without = await store.retrieve(c, [full.id]);
      expect(without).toHaveLength(1);
      expect('vector' in without[0]!).toBe(false);
      expect(await store.retrieve(c, [])).toEqual([]);
    });

    describe('filters', () => {
      let c: string;
      const may = Date.parse('2024-05-01');
      const june = Date.parse('2024-06-01');
      const july = Date.parse('2024-07-01');
      beforeAll(async () => {
        c = await fresh();
        await store.upsert(c, [
          makePoint({ docId: 'f1', vector: vec(0), text: 'apples and pears', payload: { sourceType: 'web', tags: ['fruit', 'green'], publishedTs: may, author: 'ann', language: 'en' } }),
          makePoint({ docId: 'f2', vector: vec(1), text: 'apples in pies', payload: { sourceType: 'git', tags: ['fruit'], publishedTs: june, author: 'bob' } }),
          makePoint({ docId: 'f3', vector: vec(2), text: 'apples of discord', payload: { sourceType: 'folder', tags: ['myth'], publishedTs: july, sourceId: 'src-b' } }),
          makePoint({ docId: 'f4', vector: vec(3), text: 'apples undated', payload: { sourceType: 'web', tags: [] } }),
        ]);
      });
      const cases: Array<[string, Filter, string[]]> = [
        ['eq on a string field', { must: [{ field: 'docId', eq: 'f2' }] }, ['f2']],
        ['in on a string field', { must: [{ field: 'sourceType', in: ['git', 'folder'] }] }, ['f2', 'f3']],
        ['eq on author', { must: [{ field: 'author', eq: 'ann' }] }, ['f1']],
        ['range gte', { must: [{ field: 'publishedTs', range: { gte: june } }] }, ['f2', 'f3']],
        ['range lte', { must: [{ field: 'publishedTs', range: { lte: june } }] }, ['f1', 'f2']],
        ['range gte+lte', { must: [{ field: 'publishedTs', range: { gte: june, lte: june } }] }, ['f2']],
        ['tags contains (eq)', { must: [{ field: 'tags', eq: 'fruit' }] }, ['f1', 'f2']],
        ['tags contains any (in)', { must: [{ field: 'tags', in: ['green', 'myth'] }] }, ['f1', 'f3']],
        ['conditions AND together', { must: [{ field: 'tags', eq: 'fruit' }, { field: 'sourceType', eq: 'web' }] }, ['f1']],
        ['in with an empty list matches nothing', { must: [{ field: 'docId', in: [] }] }, []],
        ['no conditions match everything', { must: [] }, ['f1', 'f2', 'f3', 'f4']],
      ];
      for (const [label, filter, expected] of cases) {
        it(`${label}: count, scroll, search and keyword search agree`, async () => {
          expect(await store.count(c, filter)).toBe(expected.length);
          expect(docIdsOf(await collect(store.scroll(c, filter)))).toEqual(expected);
          expect(docIdsOf(await store.search(c, { vector: vec(0), limit: 10, filter }))).toEqual(expected);
          expect(docIdsOf(await store.keywordSearch(c, { query: 'apples', limit: 10, filter }))).toEqual(expected);
          expect(docIdsOf(await store.hybridSearch(c, { vector: vec(0), query: 'apples', limit: 10, filter }))).toEqual(expected);
        });
      }
      it('rejects an unknown field or a wrongly typed value, naming it', async () => {
        await expect(store.count(c, { must: [{ field: 'nope' as never, eq: 'x' }] })).rejects.toThrow(FilterError);
        await expect(store.count(c, { must: [{ field: 'nope' as never, eq: 'x' }] })).rejects.toThrow(/unknown field "nope"/);
        await expect(store.search(c, { vector: vec(0), limit: 3, filter: { must: [{ field: 'publishedTs', eq: 'soon' }] } })).rejects.toThrow(/publishedTs/);
        await expect(store.count(c, { must: [{ field: 'docId', range: { gte: 1 } }] })).rejects.toThrow(/range applies only to/);
      });
    });

    it('deleteWhere by docId removes exactly those points; deleteByIds removes by id', async () => {
      const c = await fresh();
      const points = ['d1', 'd2', 'd3'].flatMap((docId) => [0, 1].map((i) => makePoint({ docId, chunkIndex: i, vector: vec(i) })));
      await store.upsert(c, points);
      await store.deleteWhere(c, { must: [{ field: 'docId', in: ['d1', 'd3'] }] });
      expect(docIdsOf(await collect(store.scroll(c)))).toEqual(['d2']);
      expect(await store.count(c)).toBe(2);
      await store.deleteByIds(c, [pointIdFor('d2', 1), pointIdFor('nobody', 0)]);
      expect(ids(await collect(store.scroll(c)))).toEqual([pointIdFor('d2', 0)]);
      await expect(store.deleteWhere(c, { must: [] })).rejects.toThrow(/at least one condition/);
      expect(await store.count(c)).toBe(1);
    });

    it('keyword search finds an exact rare token and ranks it first', async () => {
      const c = await fresh();
      const common = Array.from({ length: 12 }, (_, i) => makePoint({ docId: `k${i}`, vector: vec(i), text: `The pipeline loads documents into the store, step ${i}.` }));
      const rare = makePoint({ docId: 'k-rare', vector: vec(2), text: 'The quokkaflux parameter controls how documents are loaded.' });
      await store.upsert(c, [...common, rare]);
      const hits = await store.keywordSearch(c, { query: 'quokkaflux', limit: 5 });
      expect(ids(hits)).toEqual([rare.id]);
      expect(hits[0]!.score).toBeGreaterThan(0);
      const ranked = await store.keywordSearch(c, { query: 'quokkaflux documents', limit: 5 });
      expect(ranked[0]!.id).toBe(rare.id);
      expect(ranked.length).toBeGreaterThan(1);
      expect(await store.keywordSearch(c, { query: 'no-such-word-anywhere', limit: 5 })).toEqual([]);
      expect(await store.keywordSearch(c, { query: '   ', limit: 5 })).toEqual([]);
    });

    it('vector search ranks the nearest first with cosine scores', async () => {
      const c = await fresh();
      const target = makePoint({ docId: 'v-target', vector: vec(4) });
      const near = makePoint({ docId: 'v-near', vector: vec(4, 5, 0.4) });
      const far = makePoint({ docId: 'v-far', vector: vec(4, 5, 2) });
      const other = makePoint({ docId: 'v-other', vector: vec(0) });
      await store.upsert(c, [other, far, near, target]);
      const hits = await store.search(c, { vector: vec(4), limit: 3 });
      expect(ids(hits)).toEqual([target.id, near.id, far.id]);
      expect(hits[0]!.score).toBeCloseTo(1, 4);
      expect(hits[1]!.score).toBeCloseTo(1 / Math.hypot(1, 0.4), 4);
      expect(hits[0]!.payload.docId).toBe('v-target');
      expect(hits[0]!.text).toBe(target.text);
      await expect(store.search(c, { vector: [1, 0], limit: 3 })).rejects.toThrow(/2 dimensions/);
    });

    it('hybrid search finds a keyword-only match and a vector-only match', async () => {
      const c = await fresh();
      const keywordOnly = makePoint({ docId: 'h-kw', vector: vec(7), text: 'Zeppelinwort appears only here.' });
      const vectorOnly = makePoint({ docId: 'h-vec', vector: vec(1), text: 'Nothing lexical in common.' });
      const filler = Array.from({ length: 6 }, (_, i) => makePoint({ docId: `h-fill${i}`, vector: vec(1, 2, 1 + i), text: `Filler text number ${i}.` }));
      await store.upsert(c, [keywordOnly, vectorOnly, ...filler]);
      const rrf = await store.hybridSearch(c, { vector: vec(1), query: 'zeppelinwort', limit: 3 });
      expect(ids(rrf)).toContain(keywordOnly.id);
      expect(ids(rrf)).toContain(vectorOnly.id);
      expect(rrf).toHaveLength(3);
      for (let i = 1; i < rrf.length; i++) expect(rrf[i - 1]!.score).toBeGreaterThanOrEqual(rrf[i]!.score);
      const vectorSide = await store.hybridSearch(c, { vector: vec(1), query: 'zeppelinwort', limit: 2, fusion: { alpha: 1 } });
      expect(vectorSide[0]!.id).toBe(vectorOnly.id);
      const keywordSide = await store.hybridSearch(c, { vector: vec(1), query: 'zeppelinwort', limit: 2, fusion: { alpha: 0 } });
      expect(keywordSide[0]!.id).toBe(keywordOnly.id);
      await expect(store.hybridSearch(c, { vector: vec(1), query: 'x', limit: 2, fusion: { alpha: 2 } })).rejects.toThrow(/alpha/);
    });

    it('hybrid search is the shared fusion (fuseHybrid) of the store\'s own vector and keyword halves', async () => {
      const c = await fresh();
      const points = Array.from({ length: 12 }, (_, i) =>
        makePoint({ docId: `f${i}`, vector: vec(i % 8, (i + 3) % 8, i / 10), text: i % 3 === 0 ? `Quokka notes, entry ${i}.` : `Ordinary entry ${i} about quokka habitats and more quokka.` }),
      );
      await store.upsert(c, points);
      const req = { vector: vec(2), query: 'quokka', limit: 5, candidates: 12 };
      const [vectorHalf, keywordHalf] = await Promise.all([store.search(c, { vector: req.vector, limit: 12 }), store.keywordSearch(c, { query: req.query, limit: 12 })]);
      expect(ids(await store.hybridSearch(c, req))).toEqual(ids(fuseHybrid(vectorHalf, keywordHalf, 'rrf', 5)));
      expect(ids(await store.hybridSearch(c, { ...req, fusion: { alpha: 0.3 } }))).toEqual(ids(fuseHybrid(vectorHalf, keywordHalf, { alpha: 0.3 }, 5)));
    });

    it('scroll pages through every point exactly once, beyond one page', async () => {
      const c = await fresh();
      const total = options.scrollPageSize * 2 + 3;
      const points = Array.from({ length: total }, (_, i) => makePoint({ docId: `s${i % 5}`, chunkIndex: i, vector: vec(i) }));
      await store.upsert(c, points);
      const scrolled = await collect(store.scroll(c));
      expect(scrolled).toHaveLength(total);
      expect(new Set(ids(scrolled))).toEqual(new Set(ids(points)));
      const one = await collect(store.scroll(c, { must: [{ field: 'docId', eq: 's1' }] }));
      expect(one.map((p) => p.payload.chunkIndex).sort((a, b) => a - b)).toEqual(points.filter((p) => p.payload.docId === 's1').map((p) => p.payload.chunkIndex));
    });

    it('stores, reads and deletes parents', async () => {
      const c = await fresh();
      expect(await store.getParents(c, ['none'])).toEqual([]);
      const parents = [
        { parentId: 'p-a1', docId: 'pa', text: 'Section one of A', headingPath: 'A > One' },
        { parentId: 'p-a2', docId: 'pa', text: 'Section two of A', headingPath: 'A > Two' },
        { parentId: 'p-b1', docId: "pb'quoted", text: 'Section of B', headingPath: 'B' },
      ];
      await store.upsertParents(c, parents);
      await store.upsertParents(c, [{ ...parents[0]!, text: 'Section one of A, revised' }]);
      const got = await store.getParents(c, ['p-a1', 'p-b1', 'p-missing']);
      expect(got.sort((a, b) => a.parentId.localeCompare(b.parentId))).toEqual([{ ...parents[0]!, text: 'Section one of A, revised' }, parents[2]]);
      await store.deleteParentsOfDocs(c, ["pb'quoted"]);
      expect((await store.getParents(c, ['p-a1', 'p-a2', 'p-b1'])).map((p) => p.parentId).sort()).toEqual(['p-a1', 'p-a2']);
      expect(await store.listCollections()).not.toContain(`${c}__parents`);
    });

    it('switches an alias from one collection to another', async () => {
      const blue = await fresh();
      const green = await fresh();
      await store.upsert(blue, [makePoint({ docId: 'blue-doc', vector: vec(0) })]);
      await store.upsert(green, [makePoint({ docId: 'green-doc', vector: vec(0) }), makePoint({ docId: 'green-doc', chunkIndex: 1, vector: vec(1) })]);
      await store.upsertParents(green, [{ parentId: 'g-p', docId: 'green-doc', text: 'green parent', headingPath: '' }]);
      const alias = `${prefix}_live`;
      expect(await store.resolveAlias(alias)).toBeUndefined();
      await store.setAlias(alias, blue);
      expect(await store.resolveAlias(alias)).toBe(blue);
      expect(docIdsOf(await store.search(alias, { vector: vec(0), limit: 5 }))).toEqual(['blue-doc']);
      await store.setAlias(alias, green);
      expect(await store.resolveAlias(alias)).toBe(green);
      expect(await store.count(alias)).toBe(2);
      expect((await store.describe(alias))?.name).toBe(green);
      expect(docIdsOf(await store.search(alias, { vector: vec(0), limit: 5 }))).toEqual(['green-doc']);
      expect((await store.getParents(alias, ['g-p'])).map((p) => p.text)).toEqual(['green parent']);
      await expect(store.setAlias(alias, `${prefix}_missing`)).rejects.toThrow(/no such collection/);
      expect(await store.resolveAlias(alias)).toBe(green);
    });

    it('keeps quotes and special characters in docIds and tags inert', async () => {
      const c = await fresh();
      const nasty = ["it's", 'say "hi"', 'back\\slash', "x') OR 1=1 --", "' OR docId != '", 'new\nline', 'ünïcødé %_*'];
      const points = nasty.map((docId, i) => makePoint({ docId, vector: vec(i), payload: { tags: [docId, 'common'] } }));
      const bystander = makePoint({ docId: 'bystander', vector: vec(7), payload: { tags: ['common'] } });
      await store.upsert(c, [...points, bystander]);
      for (const docId of nasty) {
        expect(await store.count(c, { must: [{ field: 'docId', eq: docId }] })).toBe(1);
        expect(await store.count(c, { must: [{ field: 'tags', eq: docId }] })).toBe(1);
      }
      expect(await store.count(c, { must: [{ field: 'docId', in: nasty.slice(0, 3) }] })).toBe(3);
      await store.deleteWhere(c, { must: [{ field: 'docId', eq: "' OR docId != '" }] });
      await store.deleteWhere(c, { must: [{ field: 'tags', in: ["x') OR 1=1 --"] }] });
      expect(await store.count(c)).toBe(nasty.length - 1);
      expect(docIdsOf(await collect(store.scroll(c)))).toEqual([...nasty.filter((d) => d !== "' OR docId != '" && d !== "x') OR 1=1 --"), 'bystander'].sort());
      const got = await store.retrieve(c, [points[1]!.id]);
      expect(got[0]?.payload.docId).toBe('say "hi"');
    });
  });
}
