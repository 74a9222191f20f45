/** The CPU worker: every workflow, and the crawl/clean/chunk/embed/load/dataset/evaluate/publish activities. */
import { createActivities } from '../activities';
import { createDeps } from '../activities/deps';
import { loadConfig } from '../lib/config';
import { shutdownTelemetry, workerLogger } from './telemetry';
import { connectWorker, createWorker } from './worker';

export async function runCpuWorker(): Promise<void> {
  const config = loadConfig();
  const connection = await connectWorker(config);
  const deps = createDeps(config);
  const worker = await createWorker({
    config,
    connection,
    taskQueue: config.temporal.taskQueue,
    activities: createActivities(deps),
    maxConcurrentActivities: config.temporal.maxConcurrentActivities,
    withWorkflows: true,
  });
  const log = workerLogger();
  log.info(`twinflow CPU worker polling task queue "${config.temporal.taskQueue}" at ${config.temporal.address}`, { taskQueue: config.temporal.taskQueue, namespace: config.temporal.namespace });
  await worker.run();
  await connection.close();
  await shutdownTelemetry();
  log.info('twinflow CPU worker stopped');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runCpuWorker().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
