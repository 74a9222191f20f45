/**
 * Typed starters for other services: connect, start a workflow by its name with its validated input, query it.
 * Depends only on lib/schemas (no activity code), so a web service can import it without the worker's weight.
 */
import { Client, Connection, WorkflowIdReusePolicy, type WorkflowHandle } from '@temporalio/client';
import type { Config } from '../lib/config';
import { stackCheckInputSchema, type StackCheckInput } from '../lib/schemas/diagnostics';
import { type RetrievalEvalInput, retrievalEvalInputSchema, type RetrievalEvalProgress, type RetrievalEvalResult } from '../lib/schemas/eval';
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
import { TRAIN_PROGRESS_QUERY, type TrainInput, trainInputSchema, type TrainProgress, type TrainResult } from '../lib/schemas/train';
import { parseInput } from '../lib/schemas/validate';
import type * as workflows from '../workflows';

export type WorkflowName = keyof typeof workflows;

export async function connectClient(config: Config): Promise<Client> {
  const connection = await Connection.connect({
    address: config.temporal.address,
    tls: config.temporal.tls ? {} : undefined,
    apiKey: config.temporal.apiKey,
  });
  return new Client({ connection, namespace: config.temporal.namespace });
}

export interface StartOptions {
  workflowId?: string;
  taskQueue?: string;
}

export class TwinflowClient {
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
  async startIngest(input: IngestInput, opts: StartOptions = {}): Promise<WorkflowHandle<(input: IngestInput) => Promise<IngestResult>>> {
    const args = parseInput(ingestInputSchema, input, 'ingest');
    return this.start('ingest', input, `ingest-${args.collection}-${Date.now()}`, opts);
  }

  /** Starts a sync (change data capture) of one collection; validated here first, like startIngest. */
  async startSync(input: SyncInput, opts: StartOptions = {}): Promise<WorkflowHandle<(input: SyncInput) => Promise<SyncResult>>> {
    const args = parseInput(syncInputSchema, input, 'sync');
    return this.start('sync', input, `sync-${args.collection}-${Date.now()}`, opts);
  }

  async syncProgress(workflowId: string): Promise<SyncProgress> {
    return this.client.workflow.getHandle(workflowId).query<SyncProgress>('progress');
  }

  /** Starts a retrieval evaluation of a query set already in S3 (`evalRetrieval`); validated here first. */
  async startRetrievalEval(input: RetrievalEvalInput, opts: StartOptions = {}): Promise<WorkflowHandle<(input: RetrievalEvalInput) => Promise<RetrievalEvalResult>>> {
    parseInput(retrievalEvalInputSchema, input, 'evalRetrieval');
    return this.start('evalRetrieval', input, `eval-retrieval-${Date.now()}`, opts);
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
  async startTrain(input: TrainInput, opts: StartOptions = {}): Promise<WorkflowHandle<(input: TrainInput) => Promise<TrainResult>>> {
    const args = parseInput(trainInputSchema, input, 'train');
    return this.start('train', input, `train-${args.name}-${Date.now()}`, opts);
  }

  /** Starts a workflow by type with its (already validated) input, on the configured task queue by default. */
  private start<I, R>(workflowType: WorkflowName, input: I, defaultWorkflowId: string, opts: StartOptions): Promise<WorkflowHandle<(input: I) => Promise<R>>> {
    return this.client.workflow.start<(input: I) => Promise<R>>(workflowType, {
      taskQueue: opts.taskQueue ?? this.config.temporal.taskQueue,
      workflowId: opts.workflowId ?? defaultWorkflowId,
      args: [input],
    });
  }

  /** Stage, dataset counts, training step/loss/ETA and the evaluations so far. */
  async trainProgress(workflowId: string): Promise<TrainProgress> {
    return this.client.workflow.getHandle(workflowId).query<TrainProgress>(TRAIN_PROGRESS_QUERY);
  }

  async ingestProgress(workflowId: string): Promise<IngestProgress> {
    return this.client.workflow.getHandle(workflowId).query<IngestProgress>('progress');
  }

  handle<T extends WorkflowName>(workflowId: string): WorkflowHandle<(typeof workflows)[T]> {
    return this.client.workflow.getHandle(workflowId);
  }

  /** The Web UI address of a workflow run (local stack). */
  uiUrl(workflowId: string, runId?: string): string {
    const base = `http://127.0.0.1:${this.config.stack.temporalUiPort}/namespaces/${this.config.temporal.namespace}/workflows/${encodeURIComponent(workflowId)}`;
    return runId ? `${base}/${runId}/history` : base;
  }
}

export * from './schedules';
