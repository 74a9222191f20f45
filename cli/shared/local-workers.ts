/**
 * Workers run inside a command's own process (`train --with-workers`, `eval model --with-workers`, the demo): a CPU
 * worker with the workflows and the GPU-queue worker, configured as the standalone workers are.
 */
import { fileURLToPath } from 'node:url';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { createDeps, type Deps } from '../../activities/deps';
import { createGpuActivities } from '../../activities/gpu';
import { type Config, loadConfig } from '../../lib/config';
import type { EvaluateModelInput } from '../../lib/schemas/model-eval';
import type { TrainInput } from '../../lib/schemas/train';
import { isLocalModelPath, withAllowedPaths } from '../../lib/security/resources';
import { connectWorker, createWorker } from '../../workers/worker';

/** The CPU worker (workflows and CPU activities) and, given a connection for it, the GPU-queue worker. */
export async function createLocalWorkers(config: Config, deps: Deps, connections: { cpu: NativeConnection; gpu?: NativeConnection }): Promise<Worker[]> {
  const workers: Worker[] = [
    await createWorker({
      config,
      connection: connections.cpu,
      taskQueue: config.temporal.taskQueue,
      activities: createActivities(deps),
      maxConcurrentActivities: config.temporal.maxConcurrentActivities,
      withWorkflows: true,
    }),
  ];
  if (connections.gpu) {
    workers.push(
      await createWorker({
        config,
        connection: connections.gpu,
        taskQueue: config.temporal.gpuTaskQueue,
        activities: createGpuActivities(deps),
        maxConcurrentActivities: config.temporal.gpuMaxConcurrentActivities,
        withWorkflows: false,
      }),
    );
  }
  return workers;
}

/** Runs `fn` while every worker runs; each shuts down when it settles (the first worker last). */
export function runWithWorkers<T>(workers: readonly Worker[], fn: () => Promise<T>): Promise<T> {
  return workers.reduceRight<() => Promise<T>>((inner, w) => () => w.runUntil(inner()), fn)();
}

/**
 * Runs `fn` with a CPU worker and a GPU-queue worker in this process. They belong to whoever runs the command, so
 * they may read the local files that person's input names (`readable`: see localPathsOfTrain / localPathsOfModelEval),
 * besides TWINFLOW_ALLOW_PATHS.
 */
export async function withLocalWorkers<T>(fn: () => Promise<T>, readable: readonly string[]): Promise<T> {
  const config = withAllowedPaths(loadConfig(), readable);
  const deps = createDeps(config);
  const cpuConnection = await connectWorker(config);
  const gpuConnection = await NativeConnection.connect({ address: config.temporal.address, tls: config.temporal.tls ? {} : undefined, apiKey: config.temporal.apiKey });
  const workers = await createLocalWorkers(config, deps, { cpu: cpuConnection, gpu: gpuConnection });
  try {
    return await runWithWorkers(workers, fn);
  } finally {
    await cpuConnection.close();
    await gpuConnection.close();
  }
}

/** The local files a train input points the workers at: its records file and a base model folder. */
export function localPathsOfTrain(input: TrainInput): string[] {
  const uri = (input.dataset as { source?: { uri?: unknown } } | undefined)?.source?.uri;
  const records = typeof uri === 'string' && !uri.startsWith('s3://') ? [uri.startsWith('file:') ? fileURLToPath(uri) : uri] : [];
  const model = (input.model as { baseModel?: unknown } | undefined)?.baseModel;
  return [...records, ...(typeof model === 'string' && isLocalModelPath(model) ? [model] : [])];
}

/** The local folders an evaluateModel input points the GPU worker at: base models, merged weights and adapters. */
export function localPathsOfModelEval(input: EvaluateModelInput): string[] {
  return (input.models ?? []).flatMap((m) => [m.baseModel, ...(m.adapter ? [m.adapter] : [])]).filter(isLocalModelPath);
}
