/** The embedded LanceDB store: the shared contract, plus what is LanceDB's own (FTS freshness, concurrent writes). */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, PROJECT_ROOT } from '../../../lib/config';
import { LocalEmbedder } from '../../../lib/embedding/local';
import { LanceDBStore } from '../../../lib/vectorstore/lancedb';
import { makePoint, vec } from '../../contract/points';
import { runVectorStoreContract } from '../../contract/vectorstore.contract';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = mkdtempSync(path.join(tmpdir(), 'twinflow-lancedb-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

runVectorStoreContract('lancedb', () => new LanceDBStore({ uri: path.join(root, 'contract') }), { scrollPageSize: 10 });

describe('LanceDBStore specifics', () => {
  it('finds rows in full-text search right after each write, before and after the index is optimised', async () => {
    const store = new LanceDBStore({ uri: path.join(root, 'fts'), optimizeEveryWrites: 1_000 });
    await store.ensureCollection('fts', { dimension: 8, distance: 'cosine' });
    const first = makePoint({ docId: 'a', text: 'the marmoset sleeps' });
    await store.upsert('fts', [first]);
    expect((await store.keywordSearch('fts', { query: 'marmoset', limit: 5 })).map((h) => h.id)).toEqual([first.id]);
    await store.optimize('fts'); // folds the row into the FTS index
    const second = makePoint({ docId: 'b', text: 'a marmoset wakes' });
    await store.upsert('fts', [second]);
    expect((await store.keywordSearch('fts', { query: 'marmoset', limit: 5 })).map((h) => h.id).sort()).toEqual([first.id, second.id].sort());
    // An updated text replaces the indexed one: the old word no longer finds the point.
    await store.upsert('fts', [{ ...first, text: 'the capybara sleeps' }]);
    expect((await store.keywordSearch('fts', { query: 'marmoset', limit: 5 })).map((h) => h.id)).toEqual([second.id]);
    expect((await store.keywordSearch('fts', { query: 'capybara', limit: 5 })).map((h) => h.id)).toEqual([first.id]);
    await store.close();
  });

  it('optimises on its own every N writes and builds scalar indexes once a table is big enough', async () => {
    const store = new LanceDBStore({ uri: path.join(root, 'auto'), optimizeEveryWrites: 2, scalarIndexMinRows: 3 });
    await store.ensureCollection('auto', { dimension: 8, distance: 'cosine' });
    for (let i = 0; i < 4; i++) await store.upsert('auto', [makePoint({ docId: `d${i}`, text: `zebra number ${i}`, payload: { tags: ['t'] } })]);
    const lancedb = await import('@lancedb/lancedb');
    const table = await (await lancedb.connect(path.join(root, 'auto'))).openTable('auto');
    const indices = await table.listIndices();
    expect(indices.map((i) => i.columns[0]).sort()).toEqual(expect.arrayContaining(['docId', 'publishedTs', 'tags', 'text']));
    expect((await table.indexStats('text_idx'))?.numUnindexedRows).toBe(0);
    // Filters still answer exactly through the indexes.
    expect(await store.count('auto', { must: [{ field: 'docId', eq: 'd2' }] })).toBe(1);
    expect(await store.count('auto', { must: [{ field: 'tags', eq: 't' }] })).toBe(4);
    expect((await store.keywordSearch('auto', { query: 'zebra', limit: 10 })).length).toBe(4);
    await store.close();
  });

  it('folds rows into the full-text index as soon as a write leaves optimizeUnindexedRows of them outside it', async () => {
    const uri = path.join(root, 'lag');
    const store = new LanceDBStore({ uri, optimizeUnindexedRows: 10, optimizeEveryWrites: 1_000 });
    await store.ensureCollection('lag', { dimension: 8, distance: 'cosine' });
    const lancedb = await import('@lancedb/lancedb');
    const table = await (await lancedb.connect(uri, { readConsistencyInterval: 0 })).openTable('lag');
    const unindexed = async () => (await table.indexStats('text_idx'))?.numUnindexedRows;
    await store.upsert('lag', Array.from({ length: 9 }, (_, i) => makePoint({ docId: `a${i}`, text: `okapi ${i}` })));
    expect(await unindexed()).toBe(9);
    await store.upsert('lag', [makePoint({ docId: 'a9', text: 'okapi 9' })]);
    expect(await unindexed()).toBe(0);
    expect((await store.keywordSearch('lag', { query: 'okapi', limit: 20 })).length).toBe(10);
    await store.close();
  });

  it('builds an IVF vector index once a table is big enough, answers as an exact search does, and rebuilds it when the table has doubled', async () => {
    const uri = path.join(root, 'ivf');
    const dim = 16;
    let seed = 42;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    const unit = () => {
      const v = Array.from({ length: dim }, random);
      const n = Math.hypot(...v);
      return v.map((x) => x / n);
    };
    const points = (from: number, n: number) => Array.from({ length: n }, (_, i) => makePoint({ docId: `v${from + i}`, vector: unit() }));
    const options = { uri, vectorIndexMinRows: 400, vectorIndexPartitionRows: 20, scalarIndexMinRows: 1_000_000, optimizeUnindexedRows: 1_000_000, optimizeEveryWrites: 1_000 };
    const store = new LanceDBStore(options); // 20 probes: all 20 partitions of 400 rows, so exactly the exact answer
    const coarse = new LanceDBStore({ ...options, nprobes: 1 }); // 1 of 20 partitions: approximate
    await store.ensureCollection('ivf', { dimension: dim, distance: 'cosine' });
    await store.upsert('ivf', points(0, 399));
    await store.optimize('ivf');
    const lancedb = await import('@lancedb/lancedb');
    const table = await (await lancedb.connect(uri, { readConsistencyInterval: 0 })).openTable('ivf');
    const vectorIndexes = async () => (await table.listIndices()).filter((i) => i.columns.includes('vector')).map((i) => i.name);
    expect(await vectorIndexes()).toEqual([]); // 399 rows: below the threshold, searched exactly
    await store.upsert('ivf', points(399, 1));
    await store.optimize('ivf');
    expect(await vectorIndexes()).toEqual(['vector_ivf_p20']);

    const queries = Array.from({ length: 20 }, unit);
    const ids = (hits: Array<{ id: string }>) => hits.map((h) => h.id);
    let differs = 0;
    for (const vector of queries) {
      const exact = ids(await store.search('ivf', { vector, limit: 10, exact: true }));
      expect(ids(await store.search('ivf', { vector, limit: 10 }))).toEqual(exact);
      if (ids(await coarse.search('ivf', { vector, limit: 10 })).join() !== exact.join()) differs++;
    }
    expect(differs).toBeGreaterThan(0); // the coarse store really searches through the index

    // Rows written after the index was built are found before any optimisation.
    const fresh = points(400, 1)[0]!;
    await store.upsert('ivf', [fresh]);
    expect((await coarse.search('ivf', { vector: fresh.vector, limit: 1 }))[0]!.id).toBe(fresh.id);

    await store.upsert('ivf', points(401, 378)); // 779 rows: 39 partitions' worth, under twice 20: kept
    await store.optimize('ivf');
    expect(await vectorIndexes()).toEqual(['vector_ivf_p20']);
    await store.upsert('ivf', points(779, 21)); // 800 rows = 2 × 400: rebuilt with 40 partitions
    await store.optimize('ivf');
    expect(await vectorIndexes()).toEqual(['vector_ivf_p40']);
    expect(await store.count('ivf')).toBe(800);
    await Promise.all([store.close(), coarse.close()]);
  });

  it('rejects option values that are not positive integers, naming the option', () => {
    expect(() => new LanceDBStore({ uri: path.join(root, 'bad'), nprobes: 0 })).toThrow(/nprobes must be a positive integer, got 0/);
  });

  it('keeps one row per id when upserts of the same new ids race across processes', async () => {
    const uri = path.join(root, 'concurrent');
    const store = new LanceDBStore({ uri });
    await store.ensureCollection('c', { dimension: 8, distance: 'cosine' });
    const rounds = 10;
    const batch = (k: number) => Array.from({ length: 10 }, (_, i) => makePoint({ docId: `shared-${k}`, chunkIndex: i, vector: vec(i + k), text: `parent version ${k}` }));
    // Another process (its own mutex, its own LanceDB handle) inserts the same new ids at the same moment as this
    // one, round by round. Before `id` carried the primary-key marker, these racing merge-inserts duplicated rows.
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'upsert-child.ts'), uri, 'c'], { cwd: PROJECT_ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    expect((await lines.next()).value).toBe('ready');
    for (let k = 0; k < rounds; k++) {
      child.stdin!.write(`${k}\n`);
      await store.upsert('c', batch(k));
      expect((await lines.next()).value).toBe(String(k));
    }
    child.stdin!.end('end\n');
    expect(await store.count('c')).toBe(10 * rounds);
    const ids = [];
    for await (const p of store.scroll('c')) ids.push(p.id);
    expect(new Set(ids).size).toBe(10 * rounds);
    await store.close();
  }, 60_000);

  it("fuses hybrid results exactly like LanceDB's own hybrid query (whose RRF ranks count from 0)", async () => {
    const uri = path.join(root, 'hybrid');
    const store = new LanceDBStore({ uri });
    await store.ensureCollection('h', { dimension: 8, distance: 'cosine' });
    const words = ['river', 'stone', 'river stone', 'forest', 'river forest stone', 'meadow'];
    await store.upsert('h', words.map((w, i) => makePoint({ docId: `d${i}`, vector: vec(1, (i + 2) % 8, i + 0.5), text: `a ${w} here` })));
    const ours = await store.hybridSearch('h', { vector: vec(1), query: 'river stone', limit: 6, candidates: 6 });
    const lancedb = await import('@lancedb/lancedb');
    const table = await (await lancedb.connect(uri)).openTable('h');
    const native = await table
      .query()
      .nearestTo(vec(1))
      .distanceType('cosine')
      .fullTextSearch('river stone', { columns: 'text' })
      // 1/(60 + rank counted from 1) = 1/(61 + rank counted from 0)
      .rerank(await lancedb.rerankers.RRFReranker.create(61))
      .limit(6)
      .toArray();
    const nativeScores = Object.fromEntries(native.map((r) => [r.id as string, r._relevance_score as number]));
    expect(ours.length).toBe(native.length);
    for (const hit of ours) expect(hit.score).toBeCloseTo(nativeScores[hit.id]!, 6);
    expect(ours.map((h) => h.id)).toEqual([...native].sort((x, y) => y._relevance_score - x._relevance_score).map((r) => r.id));
    await store.close();
  });

  it('finds sentences by meaning and by keyword with the real local embedder', async () => {
    const embedder = await LocalEmbedder.create({ model: 'all-MiniLM-L6-v2', modelsDir: loadConfig().embedding.modelsDir, allowRemote: false });
    const store = new LanceDBStore({ uri: path.join(root, 'semantic') });
    await store.ensureCollection('s', { dimension: embedder.dimension, distance: 'cosine' });
    const texts = ['The cat sits on the mat.', 'Quarterly tax filings are due in April.', 'Temporal retries failed activities with backoff.', 'The LORA-7731 adapter was trained overnight.'];
    const vectors = await embedder.embed(texts);
    await store.upsert('s', texts.map((text, i) => ({ ...makePoint({ docId: `s${i}`, text }), vector: vectors[i]! })));
    const byMeaning = await store.search('s', { vector: await embedder.embedQuery('A feline rests on a rug.'), limit: 2 });
    expect(byMeaning[0]!.text).toBe(texts[0]);
    expect(byMeaning[0]!.score - byMeaning[1]!.score).toBeGreaterThan(0.2);
    const hybrid = await store.hybridSearch('s', { vector: await embedder.embedQuery('How do workflows handle errors?'), query: 'LORA-7731', limit: 2 });
    expect(hybrid.map((h) => h.text).sort()).toEqual([texts[2], texts[3]].sort());
    await store.close();
  });

  it('a write from one store is visible to another store at once (another worker process reads the same folder)', async () => {
    const uri = path.join(root, 'visibility');
    const writer = new LanceDBStore({ uri });
    const reader = new LanceDBStore({ uri });
    await writer.ensureCollection('v', { dimension: 8, distance: 'cosine' });
    expect(await reader.count('v')).toBe(0);
    await writer.upsert('v', [makePoint({ docId: 'seen' })]);
    expect(await reader.count('v')).toBe(1);
    await Promise.all([writer.close(), reader.close()]);
  });
});
