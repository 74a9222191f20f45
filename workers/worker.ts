/**
 * Builds and runs a Temporal worker for one task queue. Shared by the CPU and GPU entry points and by tests.
 *
 * Graceful shutdown: on SIGINT/SIGTERM the SDK's Runtime stops polling, lets running activities finish (up to
 * shutdownGraceTime, after which they are cancelled and retried elsewhere) and then worker.run() resolves.
 */
import fs from 'node:fs';
import path from 'node:path';
import { NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { type Config, PROJECT_ROOT } from '../lib/config';

export const WORKFLOWS_PATH = path.join(PROJECT_ROOT, 'workflows', 'index.ts');

let runtimeInstalled = false;
function installRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ shutdownSignals: ['SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGUSR2'] });
  } catch {
    // Already installed by the embedding process (e.g. a test harness): keep its settings.
  }
}

export async function connectWorker(config: Config): Promise<NativeConnection> {
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
  installRuntime();
  const workflows = o.withWorkflows ? (o.workflowBundle ? { workflowBundle: o.workflowBundle } : workflowSource(o.config)) : {};
  return Worker.create({
    connection: o.connection,
    namespace: o.config.temporal.namespace,
    taskQueue: o.taskQueue,
    activities: o.activities,
    maxConcurrentActivityTaskExecutions: o.maxConcurrentActivities,
    shutdownGraceTime: o.shutdownGraceTime ?? '30 seconds',
    ...workflows,
  });
}
