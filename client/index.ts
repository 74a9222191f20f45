/**
 * Typed starters for other services: connect, start a workflow by its name with its validated input, query it.
 * Depends only on lib/schemas (no activity code), so a web service can import it without the worker's weight.
 */
import { randomUUID } from 'node:crypto';
import {
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  ChildWorkflowFailure,
  Client,
  Connection,
  decodePendingActivityState,
  TerminatedFailure,
  TimeoutFailure,
  WorkflowFailedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowUpdateFailedError,
  type WorkflowExecutionInfo,
  type WorkflowExecutionStatusName,
  type WorkflowHandle,
} from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { dataConverterOptions } from '../lib/codec';
import type { Config } from '../lib/config';
import { stackCheckInputSchema, type StackCheckInput } from '../lib/schemas/diagnostics';
import { type RetrievalEvalInput, retrievalEvalInputSchema, type RetrievalEvalProgress, type RetrievalEvalResult } from '../lib/schemas/retrieval-eval';
import { type IngestInput, ingestInputSchema, type IngestProgress, type IngestResult } from '../lib/schemas/ingest';
import {
  type ObjectsChanged,
  objectsChangedSignalName,
  type SyncInput,
  syncInputSchema,
  type SyncOnEventsInput,
  syncOnEventsInputSchema,
  syncOnEventsWorkflowId,
  type SyncProgress,
  type SyncResult,
} from '../lib/schemas/sync';
import { type EvaluateModelInput, evaluateModelInputSchema, type EvaluateModelProgress, type EvaluateModelResult } from '../lib/schemas/model-eval';
import {
  REVIEW_UPDATE,
  type ReviewDecision,
  reviewDecisionSchema,
  type ReviewOutcome,
  TRAIN_PROGRESS_QUERY,
  type TrainInput,
  trainInputSchema,
  type TrainProgress,
  type TrainResult,
} from '../lib/schemas/train';
import { InputValidationError, parseInput } from '../lib/schemas/validate';
import type * as workflows from '../workflows';

export type WorkflowName = keyof typeof workflows;

/** A train run refused a review decision (not waiting for one, decided already, malformed): the run's own words. */
export class ReviewRefusedError extends Error {
  override name = 'ReviewRefusedError';
}

/** Temporal's frontend cannot be reached (down, wrong TEMPORAL_ADDRESS, TLS or key mismatch). */
export class TemporalUnreachableError extends Error {
  override name = 'TemporalUnreachableError';
}

/** True for errors that mean "the server is not there" (gRPC UNAVAILABLE), also when wrapped by the SDK. */
export function isTemporalUnavailable(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown; name?: unknown; message?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e instanceof TemporalUnreachableError || e.code === 14 || e.name === 'TransportError') return true;
    if (typeof e.message === 'string' && /Failed to connect before the deadline|tcp connect error|ECONNREFUSED/.test(e.message)) return true;
  }
  return false;
}

export async function connectClient(config: Config): Promise<Client> {
  let connection: Connection;
  try {
    connection = await Connection.connect({
      address: config.temporal.address,
      tls: config.temporal.tls ? {} : undefined,
      apiKey: config.temporal.apiKey,
    });
  } catch (err) {
    throw new TemporalUnreachableError(
      `cannot reach Temporal at ${config.temporal.address} (namespace ${config.temporal.namespace}): ${oneLine((err as Error).message)}; ` +
        'start the local stack with `bin/twinflow stack up`, or set TEMPORAL_ADDRESS (and TEMPORAL_TLS / TEMPORAL_API_KEY for a cluster)',
    );
  }
  // With TWINFLOW_CODEC_KEYS set, payloads are encrypted here before Temporal stores them (lib/codec).
  return new Client({ connection, namespace: config.temporal.namespace, ...dataConverterOptions(config) });
}

export interface StartOptions {
  /**
   * Workflow id. Id policy: a run with this id still running is returned, not started again (conflict policy
   * USE_EXISTING; the handle says `started: false`); a closed run's id may be used again (reuse policy ALLOW_DUPLICATE).
   */
  workflowId?: string;
  taskQueue?: string;
}

/** A started (or, with an id that is already running, found) workflow. */
export type StartedHandle<F extends Workflow> = WorkflowHandle<F> & {
  /** False when a run with this workflow id was already running: this is that run, and the input given was not used. */
  readonly started: boolean;
  /** The task queue the run's workflow tasks go to. */
  readonly taskQueue: string;
  /** The run this start returned (the first run of the chain). */
  readonly runId: string;
};

/** The memo key of a start's request token: how a start tells its own run from one already running under the id. */
export const START_REQUEST_MEMO = 'twinflowStartRequest';

// ---- pipelines, runs and visibility ----

/** twinflow's workflow types by pipeline name (the value of the TwinflowPipeline search attribute). */
export const PIPELINE_WORKFLOW_TYPES = {
  ingest: ['ingest'],
  sync: ['sync'],
  train: ['train'],
  eval: ['evalRetrieval'],
  evalModel: ['evaluateModel'],
  stackCheck: ['stackCheck'],
  syncOnEvents: ['syncOnEvents'],
} as const satisfies Record<string, readonly WorkflowName[]>;
export type PipelineName = keyof typeof PIPELINE_WORKFLOW_TYPES;
export const PIPELINE_NAMES = Object.keys(PIPELINE_WORKFLOW_TYPES) as PipelineName[];

/** Child workflows (one per source of an ingest or sync): listed only when asked for. */
export const CHILD_WORKFLOW_TYPES: readonly WorkflowName[] = ['ingestSource'];

/** The pipeline a workflow type belongs to (ingestSource: ingest), or the type itself for foreign ones. */
export function pipelineOfType(type: string): string {
  if (type === 'ingestSource') return 'ingest';
  for (const [pipeline, types] of Object.entries(PIPELINE_WORKFLOW_TYPES)) if ((types as readonly string[]).includes(type)) return pipeline;
  return type;
}

/** Execution statuses by their SDK name, as the visibility query spells them. */
export const EXECUTION_STATUS_QUERY_NAMES: Partial<Record<WorkflowExecutionStatusName, string>> = {
  RUNNING: 'Running',
  COMPLETED: 'Completed',
  FAILED: 'Failed',
  CANCELLED: 'Canceled',
  TERMINATED: 'Terminated',
  TIMED_OUT: 'TimedOut',
  CONTINUED_AS_NEW: 'ContinuedAsNew',
};

export interface RunFilter {
  pipelines?: PipelineName[];
  collection?: string;
  statuses?: WorkflowExecutionStatusName[];
  /** TwinflowStatus values, e.g. `deletions_held`. */
  attention?: string[];
  since?: Date;
  until?: Date;
  /** Include child runs (ingestSource). */
  children?: boolean;
  /** A raw visibility query, ANDed with the rest. */
  query?: string;
}

/** Refuses quotes and backslashes in values that go into a visibility query (no valid name has them). */
function literal(value: string, what: string): string {
  if (/['"\\]/.test(value)) throw new InputValidationError(`${what}: ${JSON.stringify(value)} may not contain quotes or backslashes`);
  return `'${value}'`;
}
const list = (values: readonly string[], what: string) => `(${values.map((v) => literal(v, what)).join(', ')})`;

/** The default workflow ids that name a collection (runs without the TwinflowCollection attribute are found by them). */
export function collectionIdPrefixes(collection: string): string[] {
  return [`ingest-${collection}-`, `sync-${collection}-`];
}
const defaultIdOf = (collection: string) => new RegExp(`^(ingest|sync)-${collection.replace(/[^a-z0-9_]/g, (c) => `\\${c}`)}-\\d+$`);

/**
 * The visibility query of a filter. Runs are matched by workflow type as well as by TwinflowPipeline, so runs without
 * search attributes (started on a server without them, or not yet picked up by a worker) are found too; `available`
 * are the custom search attributes the namespace has (a query naming another one is refused by the server).
 */
export function runsQuery(f: RunFilter, available: ReadonlySet<string>): string {
  const clauses: string[] = [];
  const pipelines = f.pipelines?.length ? f.pipelines : undefined;
  const types = pipelines ? pipelines.flatMap((p) => PIPELINE_WORKFLOW_TYPES[p]) : [...Object.values(PIPELINE_WORKFLOW_TYPES).flat(), ...(f.children ? CHILD_WORKFLOW_TYPES : [])];
  if (pipelines && f.children && pipelines.includes('ingest')) types.push(...CHILD_WORKFLOW_TYPES);
  const byType = `WorkflowType IN ${list(types, 'pipeline')}`;
  clauses.push(pipelines && available.has('TwinflowPipeline') ? `(${byType} OR TwinflowPipeline IN ${list(pipelines, 'pipeline')})` : byType);
  if (!f.children) clauses.push(`WorkflowType NOT IN ${list(CHILD_WORKFLOW_TYPES, 'type')}`);
  if (f.collection !== undefined) {
    const byId = collectionIdPrefixes(f.collection)
      .map((p) => `WorkflowId STARTS_WITH ${literal(p, '--collection')}`)
      .join(' OR ');
    clauses.push(available.has('TwinflowCollection') ? `(TwinflowCollection = ${literal(f.collection, '--collection')} OR (TwinflowCollection IS NULL AND (${byId})))` : `(${byId})`);
  }
  if (f.statuses?.length) {
    clauses.push(`ExecutionStatus IN ${list(f.statuses.map((s) => EXECUTION_STATUS_QUERY_NAMES[s] ?? s), 'status')}`);
  }
  if (f.attention?.length) {
    if (!available.has('TwinflowStatus')) throw new InputValidationError('--status: the namespace has no TwinflowStatus search attribute, so runs cannot be filtered by it');
    clauses.push(`TwinflowStatus IN ${list(f.attention, 'status')}`);
  }
  if (f.since) clauses.push(`StartTime >= '${f.since.toISOString()}'`);
  if (f.until) clauses.push(`StartTime <= '${f.until.toISOString()}'`);
  if (f.query?.trim()) clauses.push(`(${f.query.trim()})`);
  return clauses.join(' AND ');
}

/** One run, as `twinflow runs list` shows it. */
export interface RunSummary {
  workflowId: string;
  runId: string;
  workflowType: string;
  pipeline: string;
  collection?: string;
  status: WorkflowExecutionStatusName;
  /** TwinflowStatus: set when the run needs a person (e.g. deletions_held). */
  attention?: string;
  taskQueue: string;
  startTime: string;
  closeTime?: string;
  durationMs?: number;
  parentWorkflowId?: string;
  /** The run's one-line summary (memo `summary`), when its workflow wrote one. */
  summary?: string;
  url: string;
}

/** A failure in one readable line: the innermost application failure's type and message, and where it happened. */
export interface FailureSummary {
  status: 'FAILED' | 'CANCELLED' | 'TERMINATED' | 'TIMED_OUT';
  /** The innermost ApplicationFailure's type (e.g. InvalidInput), when there is one. */
  type?: string;
  message: string;
  /** The activity it failed in, when it did. */
  activity?: string;
  /** The child workflow it failed in, when it did. */
  childWorkflowId?: string;
  line: string;
}

export interface PendingActivitySummary {
  activityType: string;
  state: string;
  attempt: number;
  lastFailure?: string;
  lastHeartbeat?: string;
}

export interface RunDetails extends RunSummary {
  historyLength: number;
  pendingActivities: PendingActivitySummary[];
  failure?: FailureSummary;
}

function oneLine(text: string, max = 600): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * The one line that says why a run did not complete: walks the failure's cause chain (workflow ← child workflow ←
 * activity ← application failure) to the innermost ApplicationFailure and shows its type and message, with the
 * activity it came from, instead of the nested objects.
 */
export function describeFailure(err: unknown): FailureSummary {
  // The run's own outcome is the workflow failure's direct cause; the chain below it says why.
  const top = err instanceof WorkflowFailedError ? err.cause : err;
  const status: FailureSummary['status'] =
    top instanceof CancelledFailure ? 'CANCELLED' : top instanceof TerminatedFailure ? 'TERMINATED' : top instanceof TimeoutFailure ? 'TIMED_OUT' : 'FAILED';
  let app: ApplicationFailure | undefined;
  let activity: string | undefined;
  let child: string | undefined;
  let innermost: Error | undefined;
  let timeout: TimeoutFailure | undefined;
  for (let e = err as Error | undefined, depth = 0; e && depth < 20; e = (e as { cause?: Error }).cause, depth++) {
    if (!(e instanceof WorkflowFailedError)) innermost = e;
    if (e instanceof ApplicationFailure) app = e;
    else if (e instanceof ActivityFailure) activity = e.activityType;
    else if (e instanceof ChildWorkflowFailure) child = e.execution.workflowId ?? undefined;
    else if (e instanceof TimeoutFailure) timeout = e;
  }
  const where = [activity && `in activity ${activity}`, child && `in child workflow ${child}`].filter(Boolean).join(', ');
  let type: string | undefined;
  let message: string;
  if (app) {
    type = app.type ?? 'ApplicationFailure';
    message = app.message;
  } else if (timeout) {
    type = 'Timeout';
    message = `timed out (${String(timeout.timeoutType ?? 'unknown').replace(/^TIMEOUT_TYPE_/, '').toLowerCase()})`;
  } else if (status === 'TERMINATED') {
    message = `terminated${innermost?.message && innermost.message !== 'Workflow execution terminated' ? `: ${innermost.message}` : ''}`;
  } else if (status === 'CANCELLED') {
    message = 'cancelled';
  } else {
    message = innermost?.message ?? String(err);
  }
  message = oneLine(message);
  const line = oneLine(`${type && type !== 'Timeout' ? `${type}: ` : ''}${message}${where ? ` (${where})` : ''}`);
  return { status, ...(type && { type }), message, ...(activity && { activity }), ...(child && { childWorkflowId: child }), line };
}

/** The same line from a failure as the server sends it (a pending activity's last failure). */
export function describeProtoFailure(f: temporal.api.failure.v1.IFailure | null | undefined): string | undefined {
  if (!f) return undefined;
  let app: { type: string; message: string } | undefined;
  let last = f;
  for (let e: temporal.api.failure.v1.IFailure | null | undefined = f, depth = 0; e && depth < 20; e = e.cause, depth++) {
    if (e.applicationFailureInfo) app = { type: e.applicationFailureInfo.type || 'ApplicationFailure', message: e.message ?? '' };
    last = e;
  }
  return oneLine(app ? `${app.type}: ${app.message}` : (last.message ?? 'failed'));
}

// ---- workers ----

/** The names of Keyword (2) and KeywordList (7) attributes: twinflow sets and queries only those types. */
function keywordAttributes(types: Record<string, unknown> | null | undefined): Set<string> {
  return new Set(Object.entries(types ?? {}).filter(([, t]) => Number(t) === 2 || Number(t) === 7).map(([name]) => name));
}

/** A poller whose last poll started within this long counts as a live worker (a polling worker re-polls every minute). */
export const POLLER_FRESH_MS = 90_000;

export interface WorkerNeed {
  taskQueue: string;
  /** Workflow tasks (the CPU worker runs every workflow) or activity tasks (the GPU worker). */
  kind: 'workflow' | 'activity';
  /** Which `twinflow worker` polls it. */
  worker: 'cpu' | 'gpu';
}

/** The command that starts the worker for a need (with the same environment, it polls that queue). */
export function workerCommand(need: WorkerNeed, config?: Config): string {
  const variable = need.worker === 'cpu' ? 'TWINFLOW_TASK_QUEUE' : 'TWINFLOW_GPU_TASK_QUEUE';
  const configured = need.worker === 'cpu' ? config?.temporal.taskQueue : config?.temporal.gpuTaskQueue;
  // The worker polls the queue its environment names: say so when that is not this one.
  return `${configured !== undefined && configured !== need.taskQueue ? `${variable}=${need.taskQueue} ` : ''}bin/twinflow worker ${need.worker}`;
}

/** No worker polls a queue a run needs: the run is kept and proceeds once one comes. */
export class NoWorkerError extends Error {
  override name = 'NoWorkerError';
  constructor(
    readonly missing: WorkerNeed[],
    readonly workflowId?: string,
    config?: Config,
  ) {
    super(noWorkerMessage(missing, workflowId, config));
  }
}

export function noWorkerMessage(missing: WorkerNeed[], workflowId?: string, config?: Config): string {
  const what = missing
    .map((m) => `no worker is polling the ${m.worker.toUpperCase()} task queue "${m.taskQueue}" (no ${m.kind} poller in the last ${POLLER_FRESH_MS / 1000} s): start one with \`${workerCommand(m, config)}\``)
    .join('; ');
  return workflowId ? `${what}. The run ${workflowId} is kept and proceeds once a worker polls (\`twinflow runs show ${workflowId}\`)` : what;
}

export class TwinflowClient {
  private searchAttributes?: Promise<ReadonlySet<string>>;

  constructor(
    readonly client: Client,
    readonly config: Config,
  ) {}

  static async connect(config: Config): Promise<TwinflowClient> {
    return new TwinflowClient(await connectClient(config), config);
  }

  async close(): Promise<void> {
    await this.client.connection.close();
  }

  /** Runs `stackCheck` and waits for its result. */
  async stackCheck(input: StackCheckInput = {}, opts: StartOptions = {}) {
    const args = parseInput(stackCheckInputSchema, input, 'stackCheck');
    const handle = await this.client.workflow.start('stackCheck', {
      taskQueue: opts.taskQueue ?? this.config.temporal.taskQueue,
      workflowId: opts.workflowId ?? `stack-check-${Date.now()}`,
      args: [args],
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    });
    return { handle, result: await handle.result() };
  }

  /**
   * Starts the feature pipeline. The input is validated here first (same schema as the workflow), so a bad input
   * fails before a round trip with a message naming the field.
   */
  async startIngest(input: IngestInput, opts: StartOptions = {}): Promise<StartedHandle<(input: IngestInput) => Promise<IngestResult>>> {
    const args = parseInput(ingestInputSchema, input, 'ingest');
    return this.start('ingest', input, `ingest-${args.collection}-${Date.now()}`, opts, { TwinflowPipeline: 'ingest', TwinflowCollection: args.collection });
  }

  /** Starts a sync (change data capture) of one collection; validated here first, like startIngest. */
  async startSync(input: SyncInput, opts: StartOptions = {}): Promise<StartedHandle<(input: SyncInput) => Promise<SyncResult>>> {
    const args = parseInput(syncInputSchema, input, 'sync');
    return this.start('sync', input, `sync-${args.collection}-${Date.now()}`, opts, { TwinflowPipeline: 'sync', TwinflowCollection: args.collection });
  }

  async syncProgress(workflowId: string): Promise<SyncProgress> {
    return this.client.workflow.getHandle(workflowId).query<SyncProgress>('progress');
  }

  /** Starts a retrieval evaluation of a query set already in S3 (`evalRetrieval`); validated here first. */
  async startRetrievalEval(input: RetrievalEvalInput, opts: StartOptions = {}): Promise<StartedHandle<(input: RetrievalEvalInput) => Promise<RetrievalEvalResult>>> {
    parseInput(retrievalEvalInputSchema, input, 'evalRetrieval');
    return this.start('evalRetrieval', input, `eval-retrieval-${Date.now()}`, opts, { TwinflowPipeline: 'eval' });
  }

  async retrievalEvalProgress(workflowId: string): Promise<RetrievalEvalProgress> {
    return this.client.workflow.getHandle(workflowId).query<RetrievalEvalProgress>('progress');
  }

  /**
   * Push: tells a collection's debouncing sync that objects changed (signal-with-start of `syncOnEvents`, one
   * workflow per collection). `debounce` is the workflow's input when this call starts it (ignored when it runs).
   */
  async notifyObjectsChanged(debounce: SyncOnEventsInput, change: ObjectsChanged, opts: { taskQueue?: string } = {}): Promise<string> {
    const args = parseInput(syncOnEventsInputSchema, debounce, 'syncOnEvents');
    const workflowId = syncOnEventsWorkflowId(args.sync.collection);
    await this.client.workflow.signalWithStart('syncOnEvents', {
      workflowId,
      taskQueue: opts.taskQueue ?? this.config.temporal.taskQueue,
      args: [debounce],
      signal: objectsChangedSignalName,
      signalArgs: [change],
    });
    return workflowId;
  }

  /**
   * Starts the training pipeline (dataset → fine-tune on the GPU queue → evaluate → publish); validated here first.
   * Follow it with `trainProgress` and `handle.result()`.
   */
  async startTrain(input: TrainInput, opts: StartOptions = {}): Promise<StartedHandle<(input: TrainInput) => Promise<TrainResult>>> {
    const args = parseInput(trainInputSchema, input, 'train');
    return this.start('train', input, `train-${args.name}-${Date.now()}`, opts, { TwinflowPipeline: 'train' });
  }

  /**
   * Starts an evaluation of existing models (adapters, merged weights, the base model, OpenAI-compatible endpoints)
   * on a dataset version, without training (`evaluateModel`); validated here first.
   */
  async startModelEval(input: EvaluateModelInput, opts: StartOptions = {}): Promise<StartedHandle<(input: EvaluateModelInput) => Promise<EvaluateModelResult>>> {
    const args = parseInput(evaluateModelInputSchema, input, 'evaluateModel');
    return this.start('evaluateModel', input, `eval-model-${args.name}-${Date.now()}`, opts, { TwinflowPipeline: 'evalModel' });
  }

  async modelEvalProgress(workflowId: string): Promise<EvaluateModelProgress> {
    return this.client.workflow.getHandle(workflowId).query<EvaluateModelProgress>('progress');
  }

  /**
   * Approves or rejects a train run that waits in review (the `review` Update). The run's validator refuses a run
   * that is not waiting (or was decided already) with a message saying so; the decision comes back as recorded.
   */
  async reviewTrain(workflowId: string, decision: ReviewDecision): Promise<ReviewOutcome> {
    const args = parseInput(reviewDecisionSchema, decision, 'review');
    try {
      return await this.client.workflow.getHandle(workflowId).executeUpdate<ReviewOutcome, [ReviewDecision]>(REVIEW_UPDATE, { args: [args] });
    } catch (err) {
      // The validator's message is in the failure's cause; the SDK's own message is only "Workflow Update failed".
      if (err instanceof WorkflowUpdateFailedError) throw new ReviewRefusedError(`run ${workflowId} refused the decision: ${(err.cause as Error | undefined)?.message ?? err.message}`);
      throw err;
    }
  }

  /**
   * Starts a workflow by type with its (already validated) input, on the configured task queue by default.
   *
   * Idempotent per workflow id: a run with the id still running is returned instead of a second one (conflict policy
   * USE_EXISTING; `started` is false, and the input given here was not used); a closed run's id starts a new run
   * (reuse policy ALLOW_DUPLICATE; the old one stays in history). A start request token in the memo tells the two
   * cases apart. The pipeline and collection search attributes are set at start where the namespace has them, so a
   * run is found by them before any worker has picked it up.
   */
  private async start<I, R>(
    workflowType: WorkflowName,
    input: I,
    defaultWorkflowId: string,
    opts: StartOptions,
    tags: Record<string, string>,
  ): Promise<StartedHandle<(input: I) => Promise<R>>> {
    const token = randomUUID();
    const available = await this.availableSearchAttributes();
    const searchAttributes = Object.fromEntries(Object.entries(tags).filter(([name]) => available.has(name)).map(([name, value]) => [name, [value]]));
    const taskQueue = opts.taskQueue ?? this.config.temporal.taskQueue;
    const handle = await this.client.workflow.start<(input: I) => Promise<R>>(workflowType, {
      taskQueue,
      workflowId: opts.workflowId ?? defaultWorkflowId,
      args: [input],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      memo: { [START_REQUEST_MEMO]: token },
      ...(Object.keys(searchAttributes).length > 0 && { searchAttributes }),
    });
    let started = true;
    let queue = taskQueue;
    // Only an id given by the caller can be running already (default ids carry a timestamp).
    if (opts.workflowId !== undefined) {
      const d = await handle.describe();
      started = d.memo?.[START_REQUEST_MEMO] === token;
      queue = d.taskQueue;
    }
    return Object.assign(handle, { started, taskQueue: queue, runId: handle.firstExecutionRunId });
  }

  /** Stage, dataset counts, training step/loss/ETA and the evaluations so far. */
  async trainProgress(workflowId: string): Promise<TrainProgress> {
    return this.client.workflow.getHandle(workflowId).query<TrainProgress>(TRAIN_PROGRESS_QUERY);
  }

  async ingestProgress(workflowId: string): Promise<IngestProgress> {
    return this.client.workflow.getHandle(workflowId).query<IngestProgress>('progress');
  }

  handle<T extends WorkflowName>(workflowId: string, runId?: string): WorkflowHandle<(typeof workflows)[T]> {
    return this.client.workflow.getHandle(workflowId, runId);
  }

  /** The progress query of any twinflow run, given up after `timeoutMs` (a run no worker polls cannot answer). */
  async progress(workflowType: string, workflowId: string, timeoutMs = 5000): Promise<unknown> {
    const name = workflowType === 'train' ? TRAIN_PROGRESS_QUERY : 'progress';
    return this.client.connection.withDeadline(Date.now() + timeoutMs, () => this.client.workflow.getHandle(workflowId).query(name));
  }

  /** The Web UI address of a workflow run (TEMPORAL_UI_URL, default the local stack's UI), in this namespace. */
  uiUrl(workflowId: string, runId?: string): string {
    const base = `${this.config.temporal.uiUrl}/namespaces/${encodeURIComponent(this.config.temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
    return runId ? `${base}/${encodeURIComponent(runId)}/history` : base;
  }

  /** The Web UI's list of the runs a visibility query matches. */
  uiListUrl(query?: string): string {
    const base = `${this.config.temporal.uiUrl}/namespaces/${encodeURIComponent(this.config.temporal.namespace)}/workflows`;
    return query ? `${base}?query=${encodeURIComponent(query)}` : base;
  }

  // ---- visibility ----

  /**
   * The custom Keyword search attributes the namespace has (asked once per client). When they cannot be listed,
   * twinflow's own are assumed (the local stack registers them).
   */
  availableSearchAttributes(): Promise<ReadonlySet<string>> {
    this.searchAttributes ??= (async () => {
      const namespace = this.config.temporal.namespace;
      try {
        const res = await this.client.connection.operatorService.listSearchAttributes({ namespace });
        return keywordAttributes(res.customAttributes);
      } catch (err) {
        if (isTemporalUnavailable(err)) throw err;
        try {
          const res = await this.client.connection.workflowService.getSearchAttributes({});
          return keywordAttributes(res.keys);
        } catch {
          return new Set(['TwinflowPipeline', 'TwinflowCollection', 'TwinflowStatus']);
        }
      }
    })();
    return this.searchAttributes;
  }

  /** Runs matching a filter, newest first, at most `limit`; with the query used (paste it into the Web UI). */
  async listRuns(filter: RunFilter, opts: { limit?: number } = {}): Promise<{ query: string; runs: RunSummary[] }> {
    const limit = opts.limit ?? 20;
    const query = runsQuery(filter, await this.availableSearchAttributes());
    const runs: RunSummary[] = [];
    const exact = filter.collection !== undefined ? defaultIdOf(filter.collection) : undefined;
    for await (const info of this.client.workflow.list({ query, pageSize: Math.min(Math.max(limit, 10), 1000) })) {
      const run = this.summarize(info);
      // A run without the collection attribute matched by its id's prefix: keep it only if the id is that collection's.
      if (exact && run.collection === undefined && !exact.test(run.workflowId)) continue;
      if (exact && run.collection !== undefined && run.collection !== filter.collection) continue;
      runs.push(run);
      if (runs.length >= limit) break;
    }
    return { query, runs };
  }

  /** How many runs a filter matches (approximate, like every visibility answer). */
  async countRuns(filter: RunFilter): Promise<number> {
    return (await this.client.workflow.count(runsQuery(filter, await this.availableSearchAttributes()))).count;
  }

  private summarize(info: Omit<WorkflowExecutionInfo, 'raw'>): RunSummary {
    // Workflows upsert the attributes as lists (the untyped form); read them the same way.
    const sa = (info.searchAttributes ?? {}) as Record<string, unknown[] | undefined>;
    const first = (name: string) => (Array.isArray(sa[name]) && sa[name]!.length > 0 ? String(sa[name]![0]) : undefined);
    const start = info.startTime;
    const close = info.closeTime;
    const summary = info.memo?.summary;
    return {
      workflowId: info.workflowId,
      runId: info.runId,
      workflowType: info.type,
      pipeline: first('TwinflowPipeline') ?? pipelineOfType(info.type),
      ...(first('TwinflowCollection') !== undefined && { collection: first('TwinflowCollection') }),
      status: info.status.name,
      ...(first('TwinflowStatus') !== undefined && { attention: first('TwinflowStatus') }),
      taskQueue: info.taskQueue,
      startTime: start.toISOString(),
      ...(close && { closeTime: close.toISOString(), durationMs: close.getTime() - start.getTime() }),
      ...(info.parentExecution?.workflowId && { parentWorkflowId: info.parentExecution.workflowId }),
      ...(typeof summary === 'string' && { summary }),
      url: this.uiUrl(info.workflowId, info.runId),
    };
  }

  /** One run in detail: status, times, pending activities (with their last failure), and why it did not complete. */
  async describeRun(workflowId: string, runId?: string): Promise<RunDetails> {
    const handle = this.client.workflow.getHandle(workflowId, runId, { followRuns: false });
    const d = await handle.describe();
    const pending = (d.raw.pendingActivities ?? []).map((a) => ({
      activityType: a.activityType?.name ?? '?',
      state: (decodePendingActivityState(a.state) ?? 'unknown').toLowerCase(),
      attempt: a.attempt ?? 1,
      ...(a.lastFailure && { lastFailure: describeProtoFailure(a.lastFailure) }),
      ...(a.lastHeartbeatTime?.seconds && { lastHeartbeat: new Date(Number(a.lastHeartbeatTime.seconds) * 1000).toISOString() }),
    }));
    const details: RunDetails = { ...this.summarize(d), historyLength: d.historyLength, pendingActivities: pending };
    if (d.closeTime && d.status.name !== 'COMPLETED' && d.status.name !== 'CONTINUED_AS_NEW') {
      const failure = await this.client.workflow
        .getHandle(workflowId, d.runId, { followRuns: false })
        .result()
        .then(
          () => undefined,
          (err: unknown) => describeFailure(err),
        );
      if (failure) details.failure = failure;
    }
    return details;
  }

  // ---- workers ----

  /** The pollers of a task queue whose last poll started within POLLER_FRESH_MS (undefined: the server would not say). */
  async livePollers(taskQueue: string, kind: WorkerNeed['kind']): Promise<Array<{ identity: string; lastAccessTime: Date }> | undefined> {
    let res: temporal.api.workflowservice.v1.IDescribeTaskQueueResponse;
    try {
      res = await this.client.connection.workflowService.describeTaskQueue({
        namespace: this.config.temporal.namespace,
        taskQueue: { name: taskQueue, kind: 1 /* TASK_QUEUE_KIND_NORMAL */ },
        taskQueueType: kind === 'workflow' ? 1 : 2 /* TASK_QUEUE_TYPE_WORKFLOW, TASK_QUEUE_TYPE_ACTIVITY */,
      });
    } catch (err) {
      if (isTemporalUnavailable(err)) throw err;
      return undefined;
    }
    const now = Date.now();
    return (res.pollers ?? [])
      .map((p) => ({ identity: p.identity ?? '?', lastAccessTime: new Date(Number(p.lastAccessTime?.seconds ?? 0) * 1000 + Math.floor((p.lastAccessTime?.nanos ?? 0) / 1e6)) }))
      .filter((p) => now - p.lastAccessTime.getTime() <= POLLER_FRESH_MS);
  }

  /**
   * The needs no worker polls for: asks DescribeTaskQueue at once, then every 500 ms until `waitMs` has passed (a
   * worker started at the same moment may not have polled yet). A queue the server would not describe counts as served.
   */
  async missingWorkers(needs: WorkerNeed[], waitMs = this.config.temporal.workerCheckSeconds * 1000): Promise<WorkerNeed[]> {
    const deadline = Date.now() + waitMs;
    let missing = needs;
    for (;;) {
      const answers = await Promise.all(missing.map((n) => this.livePollers(n.taskQueue, n.kind)));
      missing = missing.filter((_, i) => answers[i] !== undefined && answers[i]!.length === 0);
      if (missing.length === 0 || Date.now() >= deadline) return missing;
      await new Promise((r) => setTimeout(r, Math.min(500, Math.max(0, deadline - Date.now()))));
    }
  }

  /** What a run of a workflow type needs polling: the CPU queue's workflow tasks; train also the GPU queue's activities. */
  workerNeeds(workflowType: string, taskQueue = this.config.temporal.taskQueue, gpuTaskQueue = this.config.temporal.gpuTaskQueue): WorkerNeed[] {
    const needs: WorkerNeed[] = [{ taskQueue, kind: 'workflow', worker: 'cpu' }];
    if (workflowType === 'train' || workflowType === 'evaluateModel') needs.push({ taskQueue: gpuTaskQueue, kind: 'activity', worker: 'gpu' });
    return needs;
  }
}

export * from './schedules';
