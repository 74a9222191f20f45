/**
 * Activity options of every workflow, named for the kind of work they bound: one place to read how long a step may
 * take and how it is retried. Workflow code (deterministic, no I/O): constants and one pure function.
 *
 * Changing a value here changes the options of activities scheduled from now on; it does not break replay (options
 * are not part of command matching), but the activity types, their order and ids are the workflows' own business.
 */
import type { Duration } from '@temporalio/common';
import { ActivityCancellationType, type ActivityOptions, type LocalActivityOptions } from '@temporalio/workflow';

/**
 * Error types that no retry can fix, for the feature pipeline and retrieval evaluation: an attempt that throws one
 * fails its activity at once. Every name is the type of an error an activity throws (ApplicationFailure's type, or
 * the class name of a plain Error, which the SDK uses as the type):
 * - InvalidInput (workflows/validation.ts, activities/chunk, activities/load, activities/retrieval-eval): the input
 *   itself is wrong; the same input fails the same way on every attempt.
 * - ConfigError (lib/config.ts; a plain Error subclass, so its class name is the failure type): the worker's
 *   environment is wrong; it needs a person to fix it and restart the worker, not a retry.
 * - DimensionMismatch (activities/load): the collection was built with another embedding size; writing into it can
 *   never succeed.
 * - CorruptPart (activities/load): a vectors part does not match its chunks part; reading it again reads the same
 *   bytes.
 * - LockLost (activities/sync/lock.ts, activities/sync/state.ts): another run holds the collection's lock or
 *   committed first; this run may not commit, and retrying would overwrite the other run's state.
 * SyncBusy is deliberately not here: waiting for a lock that another run holds is what the lock policy retries.
 */
export const NON_RETRYABLE: readonly string[] = ['InvalidInput', 'ConfigError', 'DimensionMismatch', 'CorruptPart', 'LockLost'];

const nonRetryableErrorTypes = [...NON_RETRYABLE];

/** Crawling a whole source: a big site or repository takes hours; the crawler heartbeats as it goes. */
export const CRAWL_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '4 hours',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes },
};

/** One step on one part (clean, chunk, embed, load) or one collection-wide step (manifest, plan, delete, commit). */
export const PIPELINE_STEP_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes },
};

/**
 * The collection's lock (shared by ingest and sync). Waiting for a holder that is still running (SyncBusy) is retried
 * without an attempt limit, at most 10 seconds apart, so a waiting run starts soon after the holder ends.
 */
export const COLLECTION_LOCK_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 1.5, maximumInterval: '10 seconds', nonRetryableErrorTypes },
};

/** Retrieval evaluation: preparing batches, one batch of queries, merging the results. */
export const RETRIEVAL_EVAL_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '5 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes },
};

/**
 * CPU work of training and model evaluation (datasets, baselines, scoring, reports, publishing). Their activities
 * mark what no retry can fix themselves (ApplicationFailure.nonRetryable at the throw site), so no list is given:
 * a plain error there, a ConfigError of the GPU worker's settings among them, is retried as it always was.
 */
export const TRAINING_CPU_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '4 hours',
  heartbeatTimeout: '10 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 5 },
};

/** The stack check's probe: a write and a read of one small S3 object. */
export const PROBE_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 5 },
};

/** The local activity that asks the worker which search attributes the namespace has (workflows/visibility.ts). */
export const SEARCH_ATTRIBUTES_LOCAL_ACTIVITY: LocalActivityOptions = {
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '200 milliseconds', maximumAttempts: 3 },
};

/** What a workflow input says about its GPU activities (train and evaluateModel inputs both have a `gpu` block). */
export interface GpuSettings {
  taskQueue: string;
  startToCloseTimeout: Duration;
  heartbeatTimeout: Duration;
  maximumAttempts: number;
  /** First retry delay, then doubling up to 10 minutes. */
  retryInitialInterval: Duration;
}

/**
 * GPU activities (fine-tune, preference-tune, generation) on the GPU task queue, sized by the input: a step on a big
 * model plus a checkpoint save must fit in a heartbeat. A cancelled workflow waits until the trainer process is
 * really gone, so the GPU is free again before the run reports cancelled.
 */
export function gpuActivityOptions(gpu: GpuSettings): ActivityOptions {
  return {
    taskQueue: gpu.taskQueue,
    startToCloseTimeout: gpu.startToCloseTimeout,
    heartbeatTimeout: gpu.heartbeatTimeout,
    retry: { initialInterval: gpu.retryInitialInterval, backoffCoefficient: 2, maximumInterval: '10 minutes', maximumAttempts: gpu.maximumAttempts },
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  };
}
