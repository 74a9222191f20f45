/**
 * Feature-pipeline benchmark: the `ingest` workflow over the 49 real fixture pages served on localhost, through a real
 * Temporal worker, MinIO and LanceDB, with the local MiniLM model. Reports end-to-end pages/s and chunks/s, each
 * step's share of the activity time, the embed step's throughput against the bare model's on the same chunks in the
 * same run (pipeline overhead = 1 - step / bare; goal < 15%), and the whole ingest's wall time per embedded token
 * against LlamaIndex's IngestionPipeline on the same cleaned text, same model and cores (goal <= 1.3).
 *
 *   make bench-deps && bin/twinflow stack up && node --import tsx bench/ingest-bench.ts [--pages 49] [--concurrency 1] [--out file.json]
 *
 * Uses the local stack of your configuration (default ports) and a fresh LanceDB folder and collection per run, so the
 * embedding cache starts empty and every chunk is really embedded.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { ChunkRecord } from '../activities/chunk';
import { createDeps } from '../activities/deps';
import { TwinflowClient } from '../client';
import { stackOptionsFromConfig, stackUp } from '../infra/stack';
import { loadConfig } from '../lib/config';
import { withAllowedNetworks } from '../lib/security/network';
import { createEmbedder } from '../lib/embedding';
import type { CleanDocument } from '../lib/schemas/documents';
import { loadTokenizer } from '../lib/text';
import type { IngestInput } from '../lib/schemas/ingest';
import { connectWorker, createWorker } from '../workers/worker';
import { startFixtureSite } from '../tests/helpers/fixture-site';
import { extractReferenceModel } from '../tests/helpers/st-model';

const { values } = parseArgs({
  options: {
    pages: { type: 'string', default: '49' },
    concurrency: { type: 'string', default: '1' },
    out: { type: 'string' },
  },
});

const lancedb = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-bench-lancedb-'));
// The fixture site is served on 127.0.0.1, which workers refuse for workflow input unless allowed: this bench's own
// in-process worker allows loopback.
const config = withAllowedNetworks(loadConfig({ ...process.env, LANCEDB_URI: lancedb }), ['loopback']);
Runtime.install({ logger: new DefaultLogger('WARN') });
await stackUp(stackOptionsFromConfig(config), () => undefined);

const site = await startFixtureSite({ pages: Number(values.pages) });
const deps = createDeps(config);
const connection = await connectWorker(config);
const taskQueue = `bench-ingest-${Date.now()}`;
const worker = await createWorker({ config, connection, taskQueue, activities: createActivities(deps), maxConcurrentActivities: 8, withWorkflows: true });
const client = await TwinflowClient.connect(config);
const collection = `bench_${Date.now()}`;
const input = {
  collection,
  sources: [{ type: 'web', id: 'fixtures', sitemaps: [site.url('/sitemap.xml')], perHostRps: 1000, perHostConcurrency: 8, maxPages: 1000 }],
  concurrency: Number(values.concurrency),
} as IngestInput;

const t0 = performance.now();
const result = await worker.runUntil(async () => {
  const handle = await client.startIngest(input, { workflowId: `bench-${collection}`, taskQueue });
  return handle.result();
});
const wallS = (performance.now() - t0) / 1000;

// The bare model on the very same chunk texts, same batch size, same process, no cache and no pipeline around it.
// Measured twice, right after the pipeline run and once more after a pause, and averaged: on a shared 2-core machine
// one measurement alone is at the mercy of whatever else ran at that moment.
const texts: string[] = [];
const runKeyPrefix = result.artifacts.manifest.replace(/\/manifest\.jsonl$/, '');
for await (const o of deps.artifacts.list(`${deps.artifacts.keyOf(runKeyPrefix)}/chunks/`)) {
  for await (const c of deps.artifacts.readJsonl<ChunkRecord>(o.key)) texts.push(c.text);
}
const bare = await createEmbedder(config);
await bare.embed(texts.slice(0, 8)); // warm-up, as the worker's model was warm after its first batch
const bareRuns: number[] = [];
for (let run = 0; run < 2; run++) {
  const b0 = performance.now();
  for (let i = 0; i < texts.length; i += config.embedding.batchSize) await bare.embed(texts.slice(i, i + config.embedding.batchSize));
  bareRuns.push((performance.now() - b0) / 1000);
}
const bareS = bareRuns.reduce((a, b) => a + b, 0) / bareRuns.length;

// The peer: LlamaIndex's IngestionPipeline (SentenceSplitter in the model's tokens + HuggingFaceEmbedding + LanceDB)
// over the very same cleaned text, same model and cores, in the trainer's venv (make bench-deps). Compared per
// embedded token: the two splitters cut differently, so their chunk counts differ.
const tokenizer = await loadTokenizer(config.embedding.model, { modelsDir: config.embedding.modelsDir });
const window = tokenizer.maxTokens;
const tokensOf = (xs: string[]) => xs.reduce((n, t) => n + Math.min(tokenizer.count(t) + 2, window), 0);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-bench-llamaindex-'));
const docsFile = path.join(work, 'docs.jsonl');
const cleanedTexts: string[] = [];
for (const uri of result.artifacts.cleaned) for await (const d of deps.artifacts.readJsonl<CleanDocument>(uri)) cleanedTexts.push(d.markdown);
fs.writeFileSync(docsFile, cleanedTexts.map((text) => JSON.stringify({ text })).join('\n') + '\n');
const venvPython = path.join(config.home, 'venv', 'bin', 'python');
const stFolder = extractReferenceModel(venvPython, work);
const nodesFile = path.join(work, 'nodes.jsonl');
const peerLine = execFileSync(
  venvPython,
  [path.join('bench', 'ingest_llamaindex.py'), '--docs', docsFile, '--model', stFolder, '--out', nodesFile, '--threads', String(os.availableParallelism())],
  { encoding: 'utf8', env: { ...process.env, HF_HUB_OFFLINE: '1', TOKENIZERS_PARALLELISM: 'false' } },
)
  .trim()
  .split('\n')
  .pop()!;
const peer = JSON.parse(peerLine) as { seconds: number; nodes: number };
const peerTexts = fs.readFileSync(nodesFile, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { text: string }).text);
const ourTokens = tokensOf(texts);
const peerTokens = tokensOf(peerTexts);
fs.rmSync(work, { recursive: true, force: true });

// Workflow tasks while the model computes: the time each waited between scheduled and started (the worker's event
// loop must stay free for them; the model runs in a thread of its own).
const history = await client.client.workflow.getHandle(`bench-${collection}`).fetchHistory();
const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;
const scheduledAt = new Map<string, number>();
const waits: number[] = [];
for (const e of history.events ?? []) {
  if (e.workflowTaskScheduledEventAttributes) scheduledAt.set(String(e.eventId), ms(e.eventTime));
  const started = e.workflowTaskStartedEventAttributes;
  if (started) waits.push(ms(e.eventTime) - (scheduledAt.get(String(started.scheduledEventId)) ?? ms(e.eventTime)));
}
waits.sort((a, b) => a - b);
const pct = (p: number) => +(waits[Math.min(waits.length - 1, Math.floor(p * waits.length))] ?? 0).toFixed(1);

const stepTotal = Object.values(result.timings).reduce((a, b) => a + b, 0);
const embedStepS = result.timings.embed! / 1000;
const report = {
  machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
  command: `node --import tsx bench/ingest-bench.ts --pages ${values.pages} --concurrency ${values.concurrency}`,
  pages: result.documents.fetched,
  documentsLoaded: result.documents.loaded,
  chunks: result.chunks,
  wallSeconds: +wallS.toFixed(2),
  pagesPerSecond: +(result.documents.fetched / wallS).toFixed(2),
  chunksPerSecond: +(result.chunks / wallS).toFixed(2),
  stepShares: Object.fromEntries(Object.entries(result.timings).map(([k, v]) => [k, `${((100 * v) / stepTotal).toFixed(1)}%`])),
  stepSeconds: Object.fromEntries(Object.entries(result.timings).map(([k, v]) => [k, +(v / 1000).toFixed(2)])),
  embedStepChunksPerSecond: +(result.vectors.embedded / embedStepS).toFixed(2),
  bareModelChunksPerSecond: +(texts.length / bareS).toFixed(2),
  bareModelRunsChunksPerSecond: bareRuns.map((t) => +(texts.length / t).toFixed(2)),
  embedOverheadPercent: +(100 * (1 - result.vectors.embedded / embedStepS / (texts.length / bareS))).toFixed(1),
  embeddedTokens: ourTokens,
  llamaIndex: {
    what: 'IngestionPipeline: SentenceSplitter (model tokens) + HuggingFaceEmbedding + LanceDB, same cleaned text, same model and cores',
    seconds: +peer.seconds.toFixed(2),
    nodes: peer.nodes,
    embeddedTokens: peerTokens,
    tokensPerSecond: +(peerTokens / peer.seconds).toFixed(0),
  },
  tokensPerSecond: +(ourTokens / wallS).toFixed(0),
  workflowTaskScheduleToStartMs: { tasks: waits.length, p50: pct(0.5), p95: pct(0.95), max: pct(1) },
  /** Wall time per embedded token, twinflow's whole durable ingest over LlamaIndex's pipeline (goal <= 1.3). */
  wallPerTokenRatio: +((wallS / ourTokens) / (peer.seconds / peerTokens)).toFixed(3),
};
console.log(JSON.stringify(report, null, 2));
if (values.out) fs.writeFileSync(values.out, JSON.stringify(report, null, 2));

await client.close();
await connection.close();
await site.close();
await (await deps.vectorStore()).close();
fs.rmSync(lancedb, { recursive: true, force: true });
