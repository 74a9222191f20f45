/**
 * The two workers a `train` run needs, in the test's own process: the CPU worker (workflows + CPU activities, from
 * tests/harness/worker.ts) and a GPU-queue worker (fine-tune, generate) on a task queue of its own. Shared by the
 * train workflow test, the review and eval-model tests and the secret scan.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { createDeps } from '../../activities/deps';
import { createGpuActivities, type GpuHooks } from '../../activities/gpu';
import type { Config } from '../../lib/config';
import { createWorker } from '../../workers/worker';
import { withWorker } from './worker';

export interface TrainWorkers {
  client: Client;
  taskQueue: string;
  gpuTaskQueue: string;
}

export interface TrainWorkerOptions {
  /** Observes the trainer subprocess (spawn, events) of the GPU activities. */
  hooks?: GpuHooks;
  /** The GPU queue's name (default: a fresh `gpu-test-<uuid>`). */
  gpuTaskQueue?: string;
  /** Dependencies the test already made (and may read afterwards); default: made from `config`. */
  deps?: ReturnType<typeof createDeps>;
}

/** Runs `fn` while both workers poll; the GPU worker stops when `fn` settles, then the CPU worker. */
export async function withTrainWorkers<T>(config: Config, fn: (ctx: TrainWorkers) => Promise<T>, o: TrainWorkerOptions = {}): Promise<T> {
  const deps = o.deps ?? createDeps(config);
  await deps.artifacts.ensureBucket();
  const gpuTaskQueue = o.gpuTaskQueue ?? `gpu-test-${randomUUID()}`;
  return withWorker(config, createActivities(deps), async ({ client, taskQueue }) => {
    const connection = await NativeConnection.connect({ address: config.temporal.address });
    try {
      const gpuWorker = await createWorker({
        config,
        connection,
        taskQueue: gpuTaskQueue,
        activities: createGpuActivities(deps, { hooks: o.hooks }),
        maxConcurrentActivities: 1,
        withWorkflows: false,
        shutdownGraceTime: '5 seconds',
      });
      return await gpuWorker.runUntil(fn({ client, taskQueue, gpuTaskQueue }));
    } finally {
      await connection.close();
    }
  });
}
