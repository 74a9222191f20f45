/**
 * Retrieval benchmark: search latency (p50/p95) of vector, hybrid and hybrid + re-rank through rag/ at 10k and 100k
 * chunks, next to the bare store's own time for the very same store calls in the same run (interleaved query by
 * query, so machine load hits both alike), and queries/s with 8 concurrent clients. Query embedding is timed
 * separately with the real local MiniLM model; inside the search timings queries map to precomputed vectors.
 *
 *   node --import tsx bench/search-bench.ts [--sizes 10000,100000] [--queries 200] [--clients 8]
 *       [--rerank-queries 30] [--rerank-candidates 20] [--out results.json] [--write-docs]
 *
 * Chunks are synthetic: ~100-word passages recombined (seeded) from the sentences of the real fixture pages, with
 * varied payloads (authors, sources, dates, tags) and random-but-seeded unit vectors (384 dimensions). The embedded
 * LanceDB store always runs; Qdrant too when QDRANT_URL is set. Re-ranking uses RERANKER_MODEL when set; otherwise
 * the cost of a MiniLM-L6 cross-encoder (ms-marco-MiniLM-L-6-v2 has the same BERT shape: 6 layers, 384 wide, int8) is
 * measured by running the local all-MiniLM-L6-v2 int8 encoder on the same (query, passage) pairs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { PreTrainedModel, PreTrainedTokenizer, Tensor } from '@huggingface/transformers';
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

function unitVector(r: () => number): number[] {
  const v = new Array<number>(DIM);
  let norm = 0;
  for (let i = 0; i < DIM; i += 2) {
    // Box-Muller: two Gaussian coordinates per pair of uniforms.
    const u = Math.max(r(), 1e-12);
    const m = Math.sqrt(-2 * Math.log(u));
    const a = 2 * Math.PI * r();
    v[i] = m * Math.cos(a);
    if (i + 1 < DIM) v[i + 1] = m * Math.sin(a);
  }
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm);
  return v.map((x) => x / norm);
}

const segmenter = new Intl.Segmenter('en', { granularity: 'sentence' });
const sentences = cleanFixtureDocs()
  .filter((d) => !d.language || d.language.startsWith('en'))
  .flatMap((d) => [...segmenter.segment(d.markdown.replace(/[#*_`>|[\]()!]+/g, ' ').replace(/https?:\S+/g, ' '))].map((s) => s.segment.replace(/\s+/g, ' ').trim()))
  .filter((s) => s.split(' ').length >= 6 && s.split(' ').length <= 40);
const words = [...new Set(sentences.flatMap((s) => s.toLowerCase().match(/\b[a-z]{5,}\b/g) ?? []))];
const AUTHORS = Array.from({ length: 50 }, (_, i) => `Author ${String.fromCharCode(65 + (i % 26))}${i}`);
const TAGS = ['news', 'tech', 'science', 'politics', 'health', 'code', 'history', 'games'];

function chunk(i: number, r: () => number): Point {
  let text = '';
  while (text.split(' ').length < 100) text += `${sentences[Math.floor(r() * sentences.length)]} `;
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
  return { id: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`, vector: unitVector(r), text: text.trim(), payload };
}

const qr = rng(7);
const queries = Array.from({ length: QUERIES }, () => {
  const n = 2 + Math.floor(qr() * 3);
  return { text: Array.from({ length: n }, () => words[Math.floor(qr() * words.length)]).join(' '), vector: unitVector(qr) };
});

/** Maps each benchmark query to its precomputed vector: embedding is measured on its own. */
class LookupEmbedder implements Embedder {
  readonly modelId = 'synthetic-384';
  readonly dimension = DIM;
  private readonly vectors = new Map(queries.map((q) => [q.text, q.vector]));
  async embed(texts: string[]) {
    return texts.map((t) => this.vectors.get(t) ?? unitVector(rng(t.length)));
  }
  async embedQuery(text: string) {
    const v = this.vectors.get(text);
    if (!v) throw new Error(`no precomputed vector for ${text}`);
    return v;
  }
}

/** The forward pass of a MiniLM-L6 cross-encoder on (query, passage) pairs, with the local int8 encoder. */
class MiniLmPairCost implements Reranker {
  readonly id = 'all-MiniLM-L6-v2 int8 encoder on query-passage pairs (cost of a MiniLM-L6 cross-encoder)';
  private loaded?: Promise<{ tokenizer: PreTrainedTokenizer; model: PreTrainedModel }>;
  private load() {
    const dir = path.join(MODELS_DIR, 'all-MiniLM-L6-v2');
    this.loaded ??= import('@huggingface/transformers').then(async ({ AutoTokenizer, AutoModel }) => ({
      tokenizer: await AutoTokenizer.from_pretrained(dir, { local_files_only: true }),
      model: await AutoModel.from_pretrained(dir, { dtype: 'q8', local_files_only: true }),
    }));
    return this.loaded;
  }
  async score(query: string, passages: string[]): Promise<number[]> {
    const { tokenizer, model } = await this.load();
    const inputs = tokenizer(
      passages.map(() => query),
      { text_pair: passages, padding: true, truncation: true, max_length: 512 },
    );
    const out = (await model(inputs)) as { last_hidden_state: Tensor };
    const h = out.last_hidden_state;
    const [rows, seq, width] = h.dims as [number, number, number];
    const data = h.data as Float32Array;
    return Array.from({ length: rows }, (_, r) => data[r * seq * width]!);
  }
  async close() {
    const l = await this.loaded;
    await l?.model.dispose();
  }
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
  latency: Record<string, { p50: number; p95: number; mean: number }>;
  overhead: { vector: number; hybrid: number };
  qps: { bareHybrid: number; hybrid: number };
  rerank: { p50: number; p95: number; mean: number; perCandidateMs: number; candidates: number };
}

async function benchStore(kind: 'lancedb' | 'qdrant', size: number, reranker: Reranker): Promise<SizeResult> {
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
        Array.from({ length: Math.min(5000, size - i) }, (_, j) => chunk(i + j, r)),
      );
      process.stderr.write(`\r  ${kind} ${size}: loaded ${Math.min(i + 5000, size)}`);
    }
    const loadS = r1((performance.now() - t0) / 1000);
    process.stderr.write(` in ${loadS} s\n`);
    const embedder = new LookupEmbedder();
    const rag = createRag({ store, embedder, collections: [collection] });
    const reranking = createRag({ store, embedder, collections: [collection], reranker });
    const base = { mode: 'hybrid', limit: LIMIT, candidates: CANDIDATES, selfQuery: 'off', rerank: false } as const;
    // The store calls the wrapper makes for these requests, made directly.
    const bareVector = (q: (typeof queries)[number]) => store.search(collection, { vector: q.vector, limit: CANDIDATES });
    const bareHybrid = (q: (typeof queries)[number]) => store.hybridSearch(collection, { vector: q.vector, query: q.text, limit: CANDIDATES, candidates: CANDIDATES, fusion: 'rrf' });

    for (const q of queries.slice(0, 10)) {
      await bareHybrid(q);
      await rag.search({ ...base, query: q.text, selfQuery: 'rules' }); // warms the catalog too
    }
    const t: Record<string, number[]> = { bareVector: [], vector: [], bareHybrid: [], hybrid: [], hybridSelfQuery: [] };
    for (const q of queries) {
      t.bareVector!.push(await time(() => bareVector(q)));
      t.vector!.push(await time(() => rag.search({ ...base, mode: 'vector', query: q.text })));
      t.bareHybrid!.push(await time(() => bareHybrid(q)));
      t.hybrid!.push(await time(() => rag.search({ ...base, query: q.text })));
      t.hybridSelfQuery!.push(await time(() => rag.search({ ...base, query: q.text, selfQuery: 'rules' })));
    }
    const rerankTimes: number[] = [];
    const rerankStep: number[] = [];
    for (const q of queries.slice(0, RERANK_QUERIES)) {
      const started = performance.now();
      const res = await reranking.search({ ...base, query: q.text, limit: 5, candidates: RERANK_CANDIDATES, rerank: true });
      rerankTimes.push(performance.now() - started);
      rerankStep.push(res.trace.timings.rerank ?? 0);
    }
    const latency = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, stats(v)]));
    latency.hybridRerank = stats(rerankTimes);
    const qpsBare = await throughput((i) => bareHybrid(queries[i % queries.length]!), QUERIES, CLIENTS);
    const qps = await throughput((i) => rag.search({ ...base, query: queries[i % queries.length]!.text }), QUERIES, CLIENTS);
    const stepStats = stats(rerankStep);
    return {
      store: kind,
      chunks: size,
      loadS,
      latency,
      overhead: { vector: r1((latency.vector!.p50 / latency.bareVector!.p50 - 1) * 100), hybrid: r1((latency.hybrid!.p50 / latency.bareHybrid!.p50 - 1) * 100) },
      qps: { bareHybrid: qpsBare, hybrid: qps },
      rerank: { ...stepStats, perCandidateMs: r1(stepStats.mean / RERANK_CANDIDATES), candidates: RERANK_CANDIDATES },
    };
  } finally {
    await store.dropCollection(collection).catch(() => undefined);
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---- run -----------------------------------------------------------------------------------------------------

const started = new Date();
const embedder: Embedder = await LocalEmbedder.create({ model: config.embedding.model, modelsDir: MODELS_DIR, allowRemote: false });
for (const q of queries.slice(0, 5)) await embedder.embedQuery(q.text);
const embedTimes: number[] = [];
for (const q of queries) embedTimes.push(await time(() => embedder.embedQuery(q.text)));
const queryEmbedding = stats(embedTimes);
await embedder.close?.();
process.stderr.write(`query embedding (${config.embedding.model}): p50 ${queryEmbedding.p50} ms, p95 ${queryEmbedding.p95} ms\n`);

const reranker: Reranker = config.rag.reranker.model ? new CrossEncoderReranker({ model: resolveModelRef(config.rag.reranker.model, MODELS_DIR) }) : new MiniLmPairCost();
const results: SizeResult[] = [];
for (const kind of ['lancedb', ...(config.vectorStore.qdrantUrl ? ['qdrant' as const] : [])] as const) {
  for (const size of SIZES) {
    const r = await benchStore(kind, size, reranker);
    results.push(r);
    process.stderr.write(`  ${JSON.stringify(r)}\n`);
  }
}
await reranker.close?.();

const load = os.loadavg().map((l) => l.toFixed(1)).join(', ');
const report = {
  date: started.toISOString().slice(0, 10),
  machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, load average at the end ${load}`,
  queries: QUERIES,
  clients: CLIENTS,
  queryEmbedding,
  reranker: reranker.id,
  results,
};
if (values.out) fs.writeFileSync(values.out, JSON.stringify(report, null, 2));

function markdown(): string {
  const L: string[] = [];
  L.push('## Retrieval', '');
  L.push(
    '`bench/search-bench.ts`: search through rag/ (`twinflow search`, `POST /v1/search`) at 10k and 100k chunks, next to the',
    "bare store's own time for the very same store calls, interleaved query by query in the same run. Synthetic chunks:",
    '~100-word passages recombined from the fixture pages, varied payloads, seeded random 384-d vectors; queries of 2-4',
    'words with precomputed vectors (query embedding is measured on its own). Requests: limit 10, 30 candidates per list,',
    'RRF fusion; "hybrid + self-query" adds the rule-based self-query (catalog cached).',
    '',
    `- Machine: ${report.machine}; shared with other engineers' builds and tests.`,
    `- Command: \`node --import tsx bench/search-bench.ts --sizes ${SIZES.join(',')} --queries ${QUERIES} --clients ${CLIENTS} --write-docs\`, ${report.date}.`,
    `- Query embedding (${config.embedding.model}, local int8, one query at a time): p50 ${queryEmbedding.p50} ms, p95 ${queryEmbedding.p95} ms.`,
    `- Re-ranker: ${reranker.id}; ${RERANK_CANDIDATES} candidates (~100-word passages, ~180 tokens per query-passage pair), ${RERANK_QUERIES} queries.`,
    '',
  );
  L.push('| store | chunks | search | p50 ms | p95 ms | bare store p50 | bare store p95 | wrapper overhead (p50) |');
  L.push('|---|---:|---|---:|---:|---:|---:|---:|');
  for (const r of results) {
    const l = r.latency;
    L.push(`| ${r.store} | ${r.chunks.toLocaleString('en')} | vector | ${l.vector!.p50} | ${l.vector!.p95} | ${l.bareVector!.p50} | ${l.bareVector!.p95} | ${r.overhead.vector}% |`);
    L.push(`| ${r.store} | ${r.chunks.toLocaleString('en')} | hybrid | ${l.hybrid!.p50} | ${l.hybrid!.p95} | ${l.bareHybrid!.p50} | ${l.bareHybrid!.p95} | ${r.overhead.hybrid}% |`);
    L.push(`| ${r.store} | ${r.chunks.toLocaleString('en')} | hybrid + self-query | ${l.hybridSelfQuery!.p50} | ${l.hybridSelfQuery!.p95} | | | |`);
    L.push(`| ${r.store} | ${r.chunks.toLocaleString('en')} | hybrid + re-rank ${r.rerank.candidates} | ${l.hybridRerank!.p50} | ${l.hybridRerank!.p95} | | | |`);
  }
  L.push('', `| store | chunks | load (s) | hybrid q/s, ${CLIENTS} clients | bare store q/s | re-rank step p50 / p95 ms | per candidate ms |`);
  L.push('|---|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    L.push(`| ${r.store} | ${r.chunks.toLocaleString('en')} | ${r.loadS} | ${r.qps.hybrid} | ${r.qps.bareHybrid} | ${r.rerank.p50} / ${r.rerank.p95} | ${r.rerank.perCandidateMs} |`);
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
