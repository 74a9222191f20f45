/** The CPU worker: every workflow, and the crawl/clean/chunk/embed/load/dataset/evaluate/publish activities. */
import { createActivities } from '../activities';
import { createDeps } from '../activities/deps';
import { loadConfig } from '../lib/config';
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
  console.log(`twinflow CPU worker polling task queue "${config.temporal.taskQueue}" at ${config.temporal.address}`);
  await worker.run();
  await connection.close();
  console.log('twinflow CPU worker stopped');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runCpuWorker().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
