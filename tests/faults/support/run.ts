/** Small pieces shared by the fault tests: scratch folders, unique names, running a workflow on a fresh worker process. */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { FAULT_WORK_DIR } from '../../harness/fault-stack';
import { startWorkerProcess, type WorkerProcess } from '../../harness/fault-worker';

/** A fresh folder under .twinflow/fault-stack/work (wiped at the start of each suite run). */
export function scratchDir(name: string): string {
  const dir = path.join(FAULT_WORK_DIR, `${name}-${randomUUID().slice(0, 8)}`);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** A collection name unique to this run (the S3 state of a collection outlives its LanceDB folder). */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}${randomUUID().slice(0, 4)}`;
}

/** Memoises an async computation (a clean reference run shared by the tests of a file). */
export function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= fn());
}

/** Runs `fn` with a CPU worker process of its own on a fresh task queue, then stops that worker. */
export async function withWorkerProcess<T>(env: Record<string, string>, name: string, fn: (taskQueue: string, worker: WorkerProcess) => Promise<T>): Promise<T> {
  const taskQueue = `faults-${name}-${randomUUID()}`;
  const worker = await startWorkerProcess({ kind: 'cpu', taskQueue, env, name });
  try {
    return await fn(taskQueue, worker);
  } finally {
    await worker.stop();
  }
}

/** Runs one workflow to completion on a worker process of its own (a clean run), then stops that worker. */
export async function runClean<R>(client: Client, workflow: string, input: unknown, env: Record<string, string>, name = workflow): Promise<R> {
  return withWorkerProcess(env, `clean-${name}`, async (taskQueue) =>
    (await client.workflow.execute(workflow, { taskQueue, workflowId: `${name}-clean-${randomUUID()}`, args: [input] })) as R,
  );
}

export const mib = (kib: number) => Math.round(kib / 1024);
