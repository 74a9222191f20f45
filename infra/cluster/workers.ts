/**
 * The cluster's worker processes, as docs/deploy.md runs them: the workflow bundle built once with
 * `twinflow bundle` (every replica runs byte-identical workflow code), then TWINFLOW_CLUSTER_CPU_WORKERS replicas of
 * `twinflow worker cpu` and TWINFLOW_CLUSTER_GPU_WORKERS of `twinflow worker gpu`, each its own process with its
 * own log. The embed step has no task queue of its own (embedding runs inside the CPU workers' activities), so there
 * is no separate embedding worker. Workers share the vector store through S3: LanceDB at s3://<bucket>/lancedb
 * unless LANCEDB_URI or VECTOR_STORE=qdrant says otherwise.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../lib/config';
import type { ClusterOptions } from './options';
import { logFileOf, ownedPid, runOnce, startDetached, waitFor } from '../processes';

export const TWINFLOW_BIN = path.join(PROJECT_ROOT, 'bin', 'twinflow');
const READY = { cpu: 'twinflow CPU worker polling', gpu: 'twinflow GPU worker polling' };

export const bundlePath = (o: ClusterOptions) => path.join(o.dir, 'workflow-bundle.js');

export function workerNames(o: ClusterOptions): Array<{ name: string; kind: 'cpu' | 'gpu' }> {
  return [
    ...Array.from({ length: o.cpuWorkers }, (_, i) => ({ name: `worker-cpu-${i + 1}`, kind: 'cpu' as const })),
    ...Array.from({ length: o.gpuWorkers }, (_, i) => ({ name: `worker-gpu-${i + 1}`, kind: 'gpu' as const })),
  ];
}

/** The shared vector store every worker and client must use: LanceDB on the cluster's S3 unless configured. */
export function sharedStoreEnv(o: ClusterOptions, env: NodeJS.ProcessEnv = o.env): Record<string, string> {
  if (env.VECTOR_STORE === 'qdrant' || env.LANCEDB_URI) return {};
  return { LANCEDB_URI: `s3://${o.config.s3.bucket}/lancedb` };
}

export function workerEnv(o: ClusterOptions): NodeJS.ProcessEnv {
  return { ...o.env, ...sharedStoreEnv(o), TWINFLOW_WORKFLOW_BUNDLE: bundlePath(o), TWINFLOW_CLUSTER_DIR: o.dir };
}

export function buildBundle(o: ClusterOptions, log: (l: string) => void): void {
  const started = Date.now();
  runOnce(TWINFLOW_BIN, ['bundle', '--out', bundlePath(o)], { what: 'twinflow bundle', env: o.env });
  log(`workers: workflow bundle built in ${((Date.now() - started) / 1000).toFixed(1)}s → ${bundlePath(o)}`);
}

function logSaysReady(log: string, kind: 'cpu' | 'gpu', since: number): boolean {
  try {
    const text = fs.readFileSync(log, 'utf8');
    return text.slice(since).includes(READY[kind]);
  } catch {
    return false;
  }
}

/** Starts the workers that are not running; waits until each polls its task queue. */
export async function workersUp(o: ClusterOptions, log: (l: string) => void): Promise<void> {
  const env = workerEnv(o);
  const started: Array<{ name: string; kind: 'cpu' | 'gpu'; since: number }> = [];
  for (const w of workerNames(o)) {
    if (ownedPid(o.dir, w.name)) {
      log(`${w.name}: already running (pid ${ownedPid(o.dir, w.name)})`);
      continue;
    }
    const file = logFileOf(o.dir, w.name);
    const since = fs.existsSync(file) ? fs.statSync(file).size : 0;
    const pid = startDetached(o.dir, { name: w.name, command: TWINFLOW_BIN, args: ['worker', w.kind], env, marker: `main.ts worker ${w.kind}` });
    log(`${w.name}: started (pid ${pid})`);
    started.push({ ...w, since });
  }
  for (const w of started) {
    const file = logFileOf(o.dir, w.name);
    await waitFor(`${w.name}`, async () => logSaysReady(file, w.kind, w.since), 180_000, file);
  }
}
