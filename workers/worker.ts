/**
 * Builds and runs a Temporal worker for one task queue. Shared by the CPU and GPU entry points and by tests.
 *
 * Graceful shutdown: on SIGINT/SIGTERM the SDK's Runtime stops polling, lets running activities finish (up to
 * shutdownGraceTime, after which they are cancelled and retried elsewhere) and then worker.run() resolves.
 */
import fs from 'node:fs';
import path from 'node:path';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { dataConverterOptions } from '../lib/codec';
import { type Config, PROJECT_ROOT } from '../lib/config';
import { createVisibilityActivities, ensureSearchAttributes, registrationEnabled } from './search-attributes';
import { installTelemetry, telemetryWorkerOptions, workerLogger } from './telemetry';

export const WORKFLOWS_PATH = path.join(PROJECT_ROOT, 'workflows', 'index.ts');

export async function connectWorker(config: Config): Promise<NativeConnection> {
  // Before the first connection: the runtime (logger, SDK metrics) can be installed only until then.
  await installTelemetry();
  return NativeConnection.connect({
    address: config.temporal.address,
    tls: config.temporal.tls ? {} : undefined,
    apiKey: config.temporal.apiKey,
  });
}

/** Workflow code: a prebuilt bundle (production, TWINFLOW_WORKFLOW_BUNDLE) or bundled from source at start. */
export function workflowSource(config: Config): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  const bundle = config.temporal.workflowBundle;
  if (bundle) {
    if (!fs.existsSync(bundle)) throw new Error(`TWINFLOW_WORKFLOW_BUNDLE: no file at ${bundle} (build it with \`twinflow bundle\`)`);
    return { workflowBundle: { codePath: bundle } };
  }
  return { workflowsPath: WORKFLOWS_PATH };
}

export interface CreateWorkerOptions {
  config: Config;
  connection: NativeConnection;
  taskQueue: string;
  activities: object;
  maxConcurrentActivities: number;
  /** Whether this worker also runs workflows (the CPU worker does; the GPU worker runs activities only). */
  withWorkflows: boolean;
  workflowBundle?: WorkerOptions['workflowBundle'];
  shutdownGraceTime?: WorkerOptions['shutdownGraceTime'];
}

export async function createWorker(o: CreateWorkerOptions): Promise<Worker> {
  await installTelemetry();
  const workflows = o.withWorkflows ? (o.workflowBundle ? { workflowBundle: o.workflowBundle } : workflowSource(o.config)) : {};
  // Workflows upsert only the search attributes the namespace has (they ask through a local activity): see
  // workers/search-attributes.ts.
  const searchAttributes = o.withWorkflows
    ? createVisibilityActivities(
        await ensureSearchAttributes(o.connection, o.config.temporal.address, {
          namespace: o.config.temporal.namespace,
          register: registrationEnabled(),
          warn: (m) => workerLogger().warn(m),
          info: (m) => workerLogger().info(m),
        }),
      )
    : {};
  return Worker.create({
    connection: o.connection,
    namespace: o.config.temporal.namespace,
    taskQueue: o.taskQueue,
    activities: { ...o.activities, ...searchAttributes },
    maxConcurrentActivityTaskExecutions: o.maxConcurrentActivities,
    shutdownGraceTime: o.shutdownGraceTime ?? '30 seconds',
    // Payload encryption (TWINFLOW_CODEC_KEYS): the codec runs in the worker's main thread, outside the workflow
    // sandbox, so the workflow bundle does not change with it.
    ...dataConverterOptions(o.config),
    ...workflows,
    ...(await telemetryWorkerOptions('workflowsPath' in workflows)),
  });
}
