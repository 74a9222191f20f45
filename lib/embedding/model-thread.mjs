// The local embedding model, in a worker thread of its own (see local.ts: LocalEmbedder).
//
// ONNX Runtime's Node binding runs a forward pass on the calling thread: in the worker's main thread, every batch
// would block the event loop for a second or more, and with it the Temporal worker's activity heartbeats and the
// delivery of workflow tasks. Here the main thread only posts texts and receives vectors; this thread tokenizes,
// runs the model with every core, pools and normalises.
//
// Plain JavaScript on purpose: a worker thread does not inherit the TypeScript loader of every runner (tsx, vitest),
// and this file needs nothing but transformers.js.
//
// Messages in: { id, texts, maxTokens, pooling: 'mean' | 'cls', priority: 'query' | 'bulk' }.
// Messages out: { id, vectors: Float32Array (texts × dimension, row-major), tokens, truncated, seconds } or { id, error }.
// Requests are served queries first, then bulk batches in arrival order: a search waits for at most the batch in
// progress, never for a whole ingest queued behind it.
import { parentPort, workerData } from 'node:worker_threads';
import { mean_pooling, pipeline } from '@huggingface/transformers';

const { source, local, dtype, threads, device, cacheDir } = workerData;

const queue = { query: [], bulk: [] };
let busy = false;

// `fallback`: the device was chosen by EMBEDDING_DEVICE=auto, so a CUDA provider that does not load (a driver too old
// for its CUDA version, say) means the CPU, said once; EMBEDDING_DEVICE=cuda fails instead.
const { fallback } = workerData;
const load = (on) =>
  pipeline('feature-extraction', source, {
    dtype,
    device: on,
    // No spinning: an idle intra-op thread sleeps instead of holding a core the worker's own threads need.
    session_options: { intraOpNumThreads: threads, interOpNumThreads: 1, extra: { session: { intra_op: { allow_spinning: '0' } } } },
    ...(local ? { local_files_only: true } : { cache_dir: cacheDir }),
  });

let extractor;
let used = device ?? 'cpu';
let fellBack;
try {
  try {
    extractor = await load(used);
  } catch (err) {
    if (used !== 'cuda' || !fallback) throw err;
    fellBack = `the CUDA provider did not load (${err instanceof Error ? err.message : String(err)})`;
    used = 'cpu';
    extractor = await load(used);
  }
} catch (err) {
  parentPort.postMessage({ type: 'failed', error: err instanceof Error ? err.message : String(err) });
  process.exit(0);
}
const config = extractor.model.config;
parentPort.postMessage({
  type: 'ready',
  dimension: Number(config.hidden_size ?? config.d_model ?? config.dim),
  limits: [Number(extractor.tokenizer.model_max_length), Number(config.max_position_embeddings)],
  device: used,
  fellBack,
});

parentPort.on('message', (request) => {
  queue[request.priority === 'query' ? 'query' : 'bulk'].push(request);
  void drain();
});

async function drain() {
  if (busy) return;
  busy = true;
  try {
    for (;;) {
      const next = queue.query.shift() ?? queue.bulk.shift();
      if (!next) return;
      try {
        const out = await forward(next);
        parentPort.postMessage({ id: next.id, ...out }, [out.vectors.buffer]);
      } catch (err) {
        parentPort.postMessage({ id: next.id, error: err instanceof Error ? err.message : String(err) });
      }
    }
  } finally {
    busy = false;
  }
}

/** One forward pass: tokenize (truncating to maxTokens, and counting what truncation cut), run, pool, normalise. */
async function forward({ texts, maxTokens, pooling }) {
  const started = performance.now();
  const { tokenizer, model } = extractor;
  const inputs = tokenizer(texts, { padding: true, truncation: true, max_length: maxTokens });
  const mask = inputs.attention_mask;
  const [n, width] = mask.dims;
  let tokens = 0;
  let truncated = 0;
  for (let i = 0; i < n; i++) {
    let len = 0;
    for (let j = 0; j < width; j++) len += Number(mask.data[i * width + j]);
    tokens += len;
    // A full window may mean the text was cut: count the text's own tokens to know (rare, so cheap).
    if (len >= maxTokens && tokenizer(texts[i], { truncation: false }).input_ids.dims.at(-1) > maxTokens) truncated += 1;
  }
  const { last_hidden_state: hidden } = await model(inputs);
  const pooled = pooling === 'mean' ? mean_pooling(hidden, mask) : hidden.slice(null, 0);
  const normalized = pooled.normalize(2, -1);
  return { vectors: Float32Array.from(normalized.data), tokens, truncated, seconds: (performance.now() - started) / 1000 };
}
