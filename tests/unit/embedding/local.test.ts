/** The local embedder with the real all-MiniLM-L6-v2 (fp32 ONNX exported by scripts/fetch-models.sh) from .twinflow/models, offline. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config';
import { createEmbedder } from '../../../lib/embedding';
import { LocalEmbedder } from '../../../lib/embedding/local';
import { cosine, dot } from '../../../lib/embedding/vector';
import { chunkDocument, loadTokenizer } from '../../../lib/text';

const modelsDir = loadConfig().embedding.modelsDir;
let embedder: LocalEmbedder;
beforeAll(async () => {
  embedder = await LocalEmbedder.create({ model: 'all-MiniLM-L6-v2', modelsDir, batchSize: 2, allowRemote: false });
});

describe('LocalEmbedder', () => {
  it('identifies model, dtype and pooling, and reads the dimension from the model', () => {
    expect(embedder.modelId).toBe('local:all-MiniLM-L6-v2:fp32:mean');
    expect(embedder.dimension).toBe(384);
    // sentence-transformers' own window (sentence_bert_config.json), not the tokenizer's 512.
    expect(embedder.maxTokens).toBe(256);
  });

  it('puts related sentences closer than unrelated ones, with unit-length vectors', async () => {
    const [cat, feline, tax] = await embedder.embed(['The cat sits on the mat.', 'A feline rests on a rug.', 'Quarterly tax filings are due in April.']);
    for (const v of [cat!, feline!, tax!]) {
      expect(v).toHaveLength(384);
      expect(dot(v, v)).toBeCloseTo(1, 5);
    }
    const related = cosine(cat!, feline!);
    const unrelated = cosine(cat!, tax!);
    expect(related).toBeGreaterThan(0.4);
    expect(related - unrelated).toBeGreaterThan(0.3);
    const query = await embedder.embedQuery('Where is the cat?');
    expect(cosine(query, cat!)).toBeGreaterThan(cosine(query, tax!));
  });

  it('returns vectors in input order whatever the batching, as if embedded one by one', async () => {
    const texts = ['short', 'a much longer sentence about vector databases and retrieval', 'mid length text here', 'x'];
    const together = await embedder.embed(texts);
    for (let i = 0; i < texts.length; i++) {
      const [alone] = await embedder.embed([texts[i]!]);
      alone!.forEach((x, j) => expect(x).toBeCloseTo(together[i]![j]!, 4));
    }
    expect(await embedder.embed([])).toEqual([]);
  });

  it('truncates inputs longer than the window instead of failing', async () => {
    const long = 'retrieval '.repeat(2000);
    const [v] = await embedder.embed([long]);
    expect(dot(v!, v!)).toBeCloseTo(1, 5);
    const short = await LocalEmbedder.create({ model: 'all-MiniLM-L6-v2', modelsDir, maxTokens: 16 });
    expect(short.modelId).toBe('local:all-MiniLM-L6-v2:fp32:mean:max16');
    // Only the first 16 tokens count: two texts that differ after them embed the same.
    const [a, b] = await short.embed([`${'same words '.repeat(10)} apples`, `${'same words '.repeat(10)} rockets`]);
    expect(cosine(a!, b!)).toBeCloseTo(1, 5);
  });

  it('counts and reports an input cut at the window; a chunk the chunker sized never is', async () => {
    const tokenizer = await loadTokenizer('all-MiniLM-L6-v2', { modelsDir });
    expect(tokenizer.maxTokens).toBe(embedder.maxTokens); // the chunker's limit is the embedder's window
    const markdown = Array.from({ length: 200 }, (_, i) => `Sentence ${i} about retrieval, chunking and windows.`).join(' ');
    const { chunks } = chunkDocument({ docId: 'd', markdown }, tokenizer, { chunkTokens: embedder.maxTokens - 2, overlapTokens: 8, parentTokens: 1024 });
    const longest = Math.max(...chunks.map((c) => tokenizer.count(c.text)));
    expect(longest).toBeLessThanOrEqual(embedder.maxTokens - 2);
    expect(longest).toBeGreaterThan(embedder.maxTokens - 20); // (nearly) full chunks: the window is what limits them
    const before = embedder.stats.truncated;
    await embedder.embed(chunks.map((c) => c.text));
    expect(embedder.stats.truncated).toBe(before);
    await embedder.embed([markdown]);
    expect(embedder.stats.truncated).toBe(before + 1);
  });

  it('computes in a thread of its own: the event loop keeps running while a batch is embedded', async () => {
    const texts = Array.from({ length: 64 }, (_, i) => `${'A sentence long enough to take the model some time. '.repeat(8)} ${i}`);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const started = performance.now();
    await embedder.embed(texts);
    const elapsed = performance.now() - started;
    clearInterval(timer);
    // On the main thread a forward pass blocks the loop for its whole length (no tick at all between batches of 2).
    expect(elapsed).toBeGreaterThan(100);
    expect(ticks).toBeGreaterThan(elapsed / 5 / 10);
  });

  it('serves a query before the bulk batches queued ahead of it (a search does not wait for an ingest)', async () => {
    const bulk = Array.from({ length: 40 }, (_, i) => `${'A document chunk long enough to take the model a while. '.repeat(10)} ${i}`);
    let bulkDone = 0;
    const ingest = embedder.embed(bulk).then(() => (bulkDone = performance.now()));
    await new Promise((r) => setTimeout(r, 20)); // the bulk batches are queued in the model's thread
    const query = await embedder.embedQuery('Where is the cat?').then(() => performance.now());
    await ingest;
    // 40 texts in batches of 2 = 20 batches: the query overtook the ones still queued.
    expect(query).toBeLessThan(bulkDone);
  });

  it('loads the model once per process', async () => {
    const before = LocalEmbedder.loadedModelCount();
    expect(before).toBeGreaterThanOrEqual(1);
    const again = await createEmbedder(loadConfig({ ...process.env, EMBEDDING_PROVIDER: 'local', EMBEDDING_MODEL: 'all-MiniLM-L6-v2' }));
    expect(again.modelId).toBe(embedder.modelId);
    expect(LocalEmbedder.loadedModelCount()).toBe(before);
  });

  describe('clear errors', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'twinflow-models-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    it('names a missing model folder when remote loading is off', async () => {
      await expect(LocalEmbedder.create({ model: 'no-such-model', modelsDir: dir, allowRemote: false })).rejects.toThrow(
        `Embedding model folder ${path.join(dir, 'no-such-model')} does not exist`,
      );
    });
    it('names a folder without an ONNX model, and a dtype the folder lacks', async () => {
      mkdirSync(path.join(dir, 'empty-model'));
      writeFileSync(path.join(dir, 'empty-model', 'config.json'), '{}');
      await expect(LocalEmbedder.create({ model: 'empty-model', modelsDir: dir })).rejects.toThrow(/No ONNX model in .*empty-model\/onnx/);
      await expect(LocalEmbedder.create({ model: 'all-MiniLM-L6-v2', modelsDir, dtype: 'fp16' })).rejects.toThrow(/has no fp16 model \(onnx\/model_fp16.onnx\); available: fp32/);
    });
    it('says which model and folder failed to load', async () => {
      mkdirSync(path.join(dir, 'broken-model', 'onnx'), { recursive: true });
      writeFileSync(path.join(dir, 'broken-model', 'config.json'), '{"model_type": "bert"}');
      writeFileSync(path.join(dir, 'broken-model', 'onnx', 'model_quantized.onnx'), 'not an onnx file');
      await expect(LocalEmbedder.create({ model: 'broken-model', modelsDir: dir })).rejects.toThrow(
        `Cannot load embedding model "${path.join(dir, 'broken-model')}" (q8, cpu) from the folder`,
      );
    });
  });
});
