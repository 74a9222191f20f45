/**
 * The cluster rehearsal's settings: the cluster profile of `twinflow stack up --profile cluster` on ports of its own
 * (Temporal frontend 27233, MinIO 29000/29001, PostgreSQL 25432; TWINFLOW_CLUSTER_TEST_PORT_OFFSET shifts them all),
 * data under .twinflow/cluster. Nothing here touches the test stack (17233/19000) or the fault stack.
 */
import path from 'node:path';
import { type Config, loadConfig, PROJECT_ROOT } from '../../lib/config';
import { type ClusterOptions, clusterOptionsFromConfig } from '../../infra/cluster';
import { envWithoutStack, portOffset, stackServiceEnv } from '../harness/stack-env';

const OFFSET = portOffset('TWINFLOW_CLUSTER_TEST_PORT_OFFSET', 30000);

export const CLUSTER_DIR = path.join(PROJECT_ROOT, '.twinflow', 'cluster');

export const CLUSTER_ENV: Record<string, string> = {
  ...stackServiceEnv({ temporal: 27233 + OFFSET, minio: 29000 + OFFSET, minioConsole: 29001 + OFFSET }, 'twinflow-cluster'),
  TWINFLOW_CLUSTER_DIR: CLUSTER_DIR,
  TWINFLOW_POSTGRES_PORT: String(25432 + OFFSET),
  TWINFLOW_TASK_QUEUE: 'twinflow',
  TWINFLOW_GPU_TASK_QUEUE: 'gpu-cpu-rehearsal',
  LANCEDB_URI: 's3://twinflow-cluster/lancedb',
  // The rehearsal's site and embedding endpoint are on 127.0.0.1, which workers refuse to reach unless allowed.
  TWINFLOW_ALLOW_NETWORKS: 'loopback',
  // What the sync and the training run read: the notes folder, the example dataset and the tiny model.
  TWINFLOW_ALLOW_PATHS: ['.twinflow/data', 'examples', '.twinflow/test-models'].map((p) => path.join(PROJECT_ROOT, p)).join(','),
  // Two CPU workers of 4 slots each on a 2-core machine.
  TWINFLOW_MAX_CONCURRENT_ACTIVITIES: '4',
};

/** The environment without the developer's own TWINFLOW_/S3_ settings, plus the cluster's. */
export function clusterProcessEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...envWithoutStack({ names: ['LANCEDB_URI'] }), ...CLUSTER_ENV, ...extra };
}

export function clusterConfig(extra: Record<string, string> = {}): Config {
  return loadConfig(clusterProcessEnv(extra));
}

export function clusterOptions(extra: Record<string, string> = {}): ClusterOptions {
  const env = clusterProcessEnv(extra);
  return clusterOptionsFromConfig(loadConfig(env), env);
}
