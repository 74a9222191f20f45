/** Runs a real worker on the test stack for the duration of a callback. */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import { dataConverterOptions } from '../../lib/codec';
import type { Config } from '../../lib/config';
import { createWorker } from '../../workers/worker';
import { WORKFLOW_BUNDLE_PATH } from './stack';

let quiet = false;
function quietRuntime(): void {
  if (quiet) return;
  quiet = true;
  try {
    Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  } catch {
    /* installed already */
  }
}

export interface WorkerContext {
  client: Client;
  taskQueue: string;
}

/** A fresh task queue per call isolates tests that share the server. */
export async function withWorker<T>(
  config: Config,
  activities: object,
  fn: (ctx: WorkerContext) => Promise<T>,
  opts: { taskQueue?: string; maxConcurrentActivities?: number } = {},
): Promise<T> {
  quietRuntime();
  const taskQueue = opts.taskQueue ?? `test-${randomUUID()}`;
  const nativeConnection = await NativeConnection.connect({ address: config.temporal.address });
  const worker = await createWorker({
    config,
    connection: nativeConnection,
    taskQueue,
    activities,
    maxConcurrentActivities: opts.maxConcurrentActivities ?? 4,
    withWorkflows: true,
    workflowBundle: { codePath: WORKFLOW_BUNDLE_PATH },
    shutdownGraceTime: '2 seconds',
  });
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace, ...dataConverterOptions(config) });
  try {
    return await worker.runUntil(fn({ client, taskQueue }));
  } finally {
    await connection.close();
    await nativeConnection.close();
  }
}
