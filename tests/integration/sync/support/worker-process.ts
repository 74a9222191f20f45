/**
 * A worker in its own process, so a test can kill it (SIGKILL) in the middle of an activity, as a crashed machine
 * would. Configured by environment: SYNC_TEST_TASK_QUEUE and SYNC_TEST_LANCEDB. Prints "ready" once polling.
 */
import { NativeConnection } from '@temporalio/worker';
import { createActivities } from '../../../../activities';
import { createDeps } from '../../../../activities/deps';
import { createWorker } from '../../../../workers/worker';
import { testConfig, WORKFLOW_BUNDLE_PATH } from '../../../harness/stack';

const taskQueue = process.env.SYNC_TEST_TASK_QUEUE;
const lancedb = process.env.SYNC_TEST_LANCEDB;
if (!taskQueue || !lancedb) throw new Error('set SYNC_TEST_TASK_QUEUE and SYNC_TEST_LANCEDB');

const config = testConfig({ LANCEDB_URI: lancedb });
const connection = await NativeConnection.connect({ address: config.temporal.address });
const worker = await createWorker({
  config,
  connection,
  taskQueue,
  activities: createActivities(createDeps(config)),
  maxConcurrentActivities: 2,
  withWorkflows: true,
  workflowBundle: { codePath: WORKFLOW_BUNDLE_PATH },
});
const running = worker.run();
console.log('ready');
await running;
