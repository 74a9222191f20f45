/**
 * The GPU worker: polls the GPU task queue (default gpu-a6000) and runs one training/generation activity at a time
 * (TWINFLOW_GPU_MAX_CONCURRENT_ACTIVITIES), each spawning the Python trainer in trainer/.
 */
import { createDeps } from '../activities/deps';
import { createGpuActivities } from '../activities/gpu';
import { loadConfig } from '../lib/config';
import { shutdownTelemetry, workerLogger } from './telemetry';
import { connectWorker, createWorker } from './worker';

export async function runGpuWorker(): Promise<void> {
  const config = loadConfig();
  const connection = await connectWorker(config);
  const worker = await createWorker({
    config,
    connection,
    taskQueue: config.temporal.gpuTaskQueue,
    activities: createGpuActivities(createDeps(config)),
    maxConcurrentActivities: config.temporal.gpuMaxConcurrentActivities,
    withWorkflows: false,
    // Training steps can take a while to reach a safe stopping point.
    shutdownGraceTime: '2 minutes',
  });
  const log = workerLogger();
  log.info(`twinflow GPU worker polling task queue "${config.temporal.gpuTaskQueue}" at ${config.temporal.address}`, { taskQueue: config.temporal.gpuTaskQueue, namespace: config.temporal.namespace });
  await worker.run();
  await connection.close();
  await shutdownTelemetry();
  log.info('twinflow GPU worker stopped');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runGpuWorker().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
