/**
 * The pipeline's own Prometheus metrics (prom-client), next to the Temporal SDK's in a worker's /metrics
 * (workers/telemetry.ts). Process-wide; counting costs nothing when nothing scrapes.
 *
 * Most are fed by the worker's activity interceptor from each activity's input and result (observeActivity): per
 * activity type outcomes and durations, documents fetched / skipped / failed / dropped by reason, chunks embedded and
 * reused, vectors written, training throughput of a finished fine-tune, evaluation scores. What no result carries is
 * fed by one-line calls in the activities: pipelineMetrics.embedTokens(...), pipelineMetrics.trainingProgress(...).
 */
import client from 'prom-client';

export const metricsRegistry = new client.Registry();
client.collectDefaultMetrics({ register: metricsRegistry, prefix: 'twinflow_process_' });

const registers = [metricsRegistry];

const activityExecutions = new client.Counter({
  name: 'twinflow_activity_executions_total',
  help: 'Activity attempts by type and outcome (completed, failed, cancelled); failed ones also by error type',
  labelNames: ['activity_type', 'task_queue', 'outcome', 'error_type'] as const,
  registers,
});
const activityDuration = new client.Histogram({
  name: 'twinflow_activity_duration_seconds',
  help: 'Activity attempt durations by type and outcome',
  labelNames: ['activity_type', 'task_queue', 'outcome'] as const,
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600],
  registers,
});
const documents = new client.Counter({
  name: 'twinflow_documents_total',
  help: 'Documents by source (id and type; the type is empty after crawl), outcome (fetched, skipped, failed, cleaned, dropped, loaded) and reason',
  labelNames: ['source', 'source_type', 'outcome', 'reason'] as const,
  registers,
});
const chunks = new client.Counter({
  name: 'twinflow_chunks_total',
  help: 'Chunks by outcome: embedded (sent to the model) or reused (embedding cache hit)',
  labelNames: ['model', 'outcome'] as const,
  registers,
});
/** Most pipeline gauges and counters are per model: one shape, named and explained per metric. */
const perModelGauge = (name: string, help: string) => new client.Gauge({ name, help, labelNames: ['model'] as const, registers });
const perModelCounter = (name: string, help: string) => new client.Counter({ name, help, labelNames: ['model'] as const, registers });

const embedChunksPerSecond = perModelGauge('twinflow_embed_chunks_per_second', 'Chunks embedded per second of model time, last embed step');
const embedTokens = perModelCounter('twinflow_embed_tokens_total', 'Tokens sent to the embedding model');
const embedTokensPerSecond = perModelGauge('twinflow_embed_tokens_per_second', 'Embedding throughput in tokens per second, last batch reported');
const vectorsWritten = new client.Counter({
  name: 'twinflow_vectors_written_total',
  help: 'Vectors written to the vector store, by (physical) collection',
  labelNames: ['collection'] as const,
  registers,
});
const trainingTokensPerSecond = perModelGauge(
  'twinflow_training_tokens_per_second',
  'Fine-tuning throughput in tokens per second (live while training, then of the finished run)',
);
const trainingStep = perModelGauge('twinflow_training_step', 'Current training step');
const trainingLoss = perModelGauge('twinflow_training_loss', 'Latest training loss');
const evaluationScore = new client.Gauge({
  name: 'twinflow_evaluation_score',
  help: 'Latest evaluation score by model and metric (rouge_lsum, ratings_rmse, ratings_mae, format_compliance)',
  labelNames: ['model', 'kind', 'metric'] as const,
  registers,
});

const label = (v: unknown, fallback = 'unknown') => (typeof v === 'string' && v.length > 0 ? v.slice(0, 100) : fallback);
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The calls activities (or anything else in a worker) make. Every argument is optional-safe: bad values are ignored. */
export const pipelineMetrics = {
  documents(source: { id?: string; type?: string }, outcome: 'fetched' | 'skipped' | 'failed' | 'cleaned' | 'dropped' | 'loaded', count: number, reason = ''): void {
    if (finite(count) && count > 0) documents.inc({ source: label(source.id, ''), source_type: label(source.type, ''), outcome, reason }, count);
  },
  chunks(model: string, embedded: number, reused: number, modelSeconds?: number): void {
    if (finite(embedded) && embedded > 0) chunks.inc({ model: label(model), outcome: 'embedded' }, embedded);
    if (finite(reused) && reused > 0) chunks.inc({ model: label(model), outcome: 'reused' }, reused);
    if (finite(embedded) && embedded > 0 && finite(modelSeconds) && modelSeconds > 0) embedChunksPerSecond.set({ model: label(model) }, embedded / modelSeconds);
  },
  /** One line in the embed step per batch: tokens sent to the model and the seconds the model took. */
  embedTokens(model: string, tokens: number, seconds: number): void {
    if (!finite(tokens) || tokens <= 0) return;
    embedTokens.inc({ model: label(model) }, tokens);
    if (finite(seconds) && seconds > 0) embedTokensPerSecond.set({ model: label(model) }, tokens / seconds);
  },
  vectorsWritten(collection: string, count: number): void {
    if (finite(count) && count > 0) vectorsWritten.inc({ collection: label(collection) }, count);
  },
  /** One line where the fine-tune activity receives a progress report from the trainer. */
  trainingProgress(model: string, p: { tokensPerSecond?: number | null; step?: number | null; loss?: number | null }): void {
    const m = { model: label(model) };
    if (finite(p.tokensPerSecond)) trainingTokensPerSecond.set(m, p.tokensPerSecond);
    if (finite(p.step)) trainingStep.set(m, p.step);
    if (finite(p.loss)) trainingLoss.set(m, p.loss);
  },
  evaluation(model: string, kind: string, metric: string, value: number | null | undefined): void {
    if (finite(value)) evaluationScore.set({ model: label(model), kind: label(kind), metric }, value);
  },
  activity(activityType: string, taskQueue: string, outcome: 'completed' | 'failed' | 'cancelled', seconds: number, errorType = ''): void {
    activityExecutions.inc({ activity_type: activityType, task_queue: taskQueue, outcome, error_type: errorType });
    activityDuration.observe({ activity_type: activityType, task_queue: taskQueue, outcome }, seconds);
  },
};

/** The evaluation scores an evaluation's result carries: the metric label and the result's field. */
const EVALUATION_METRICS = [
  ['rouge_lsum', 'rougeLsum'],
  ['ratings_rmse', 'ratingsRmse'],
  ['ratings_mae', 'ratingsMae'],
  ['format_compliance', 'formatCompliance'],
] as const;

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' ? (v as Obj) : {});
const countsOf = (v: unknown): Array<[string, number]> => Object.entries(obj(v)).filter((e): e is [string, number] => finite(e[1]));

/**
 * What a completed activity's input and result tell about the pipeline. Called by the worker's activity interceptor;
 * knows the shapes of twinflow's activities and ignores anything else (never throws).
 */
export function observeActivity(activityType: string, input: unknown, result: unknown): void {
  try {
    const a = obj(input);
    const r = obj(result);
    switch (activityType) {
      case 'crawlSource': {
        const source = { id: obj(a.source).id as string, type: obj(a.source).type as string };
        pipelineMetrics.documents(source, 'fetched', r.fetched as number);
        for (const [reason, n] of countsOf(r.skipped)) pipelineMetrics.documents(source, 'skipped', n, reason);
        for (const [reason, n] of countsOf(r.failed)) pipelineMetrics.documents(source, 'failed', n, reason);
        break;
      }
      case 'cleanPart': {
        const source = { id: a.sourceId as string };
        pipelineMetrics.documents(source, 'cleaned', obj(r.cleanedPart).count as number);
        for (const [reason, n] of countsOf(r.dropped)) pipelineMetrics.documents(source, 'dropped', n, reason);
        break;
      }
      case 'embedPart':
        pipelineMetrics.chunks(label(r.model), r.embedded as number, r.reused as number, finite(r.modelMs) ? (r.modelMs as number) / 1000 : undefined);
        break;
      case 'loadPart':
        pipelineMetrics.vectorsWritten(label(a.collection), r.written as number);
        break;
      case 'fineTune': {
        const m = obj(r.metrics);
        if (finite(m.trainTokens) && finite(m.runtimeSeconds) && m.runtimeSeconds > 0) {
          pipelineMetrics.trainingProgress(label(a.baseModel), { tokensPerSecond: m.trainTokens / m.runtimeSeconds, step: m.globalStep as number, loss: m.trainLoss as number });
        }
        break;
      }
      case 'evaluatePredictions':
      case 'runBaseline': {
        const model = label(r.model);
        const kind = label(r.kind);
        for (const [metric, field] of EVALUATION_METRICS) pipelineMetrics.evaluation(model, kind, metric, r[field] as number);
        break;
      }
    }
  } catch {
    // Metrics never fail an activity.
  }
}

/** The pipeline's metrics in Prometheus text format. */
export function pipelineMetricsText(): Promise<string> {
  return metricsRegistry.metrics();
}
