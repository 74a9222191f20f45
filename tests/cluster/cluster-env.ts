/**
 * The cluster rehearsal's settings: the cluster profile of `twinflow stack up --profile cluster` on ports of its own
 * (Temporal frontend 27233, MinIO 29000/29001, PostgreSQL 25432; TWINFLOW_CLUSTER_TEST_PORT_OFFSET shifts them all),
 * data under .twinflow/cluster. Nothing here touches the test stack (17233/19000) or the fault stack.
 */
import path from 'node:path';
import { type Config, loadConfig, PROJECT_ROOT } from '../../lib/config';
import { type ClusterOptions, clusterOptionsFromConfig } from '../../infra/cluster';

const OFFSET = Number(process.env.TWINFLOW_CLUSTER_TEST_PORT_OFFSET ?? 0);
if (!Number.isInteger(OFFSET) || OFFSET < 0 || OFFSET > 30000) throw new Error(`TWINFLOW_CLUSTER_TEST_PORT_OFFSET: expected an integer 0-30000, got ${process.env.TWINFLOW_CLUSTER_TEST_PORT_OFFSET}`);

export const CLUSTER_DIR = path.join(PROJECT_ROOT, '.twinflow', 'cluster');

export const CLUSTER_ENV: Record<string, string> = {
  TWINFLOW_HOME: path.join(PROJECT_ROOT, '.twinflow'),
  TWINFLOW_CLUSTER_DIR: CLUSTER_DIR,
  TWINFLOW_TEMPORAL_PORT: String(27233 + OFFSET),
  TWINFLOW_MINIO_PORT: String(29000 + OFFSET),
  TWINFLOW_MINIO_CONSOLE_PORT: String(29001 + OFFSET),
  TWINFLOW_POSTGRES_PORT: String(25432 + OFFSET),
  S3_BUCKET: 'twinflow-cluster',
  AWS_ACCESS_KEY_ID: 'minioadmin',
  AWS_SECRET_ACCESS_KEY: 'minioadmin',
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
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TWINFLOW_') && !k.startsWith('S3_') && k !== 'TEMPORAL_ADDRESS' && k !== 'LANCEDB_URI'));
  return { ...base, ...CLUSTER_ENV, ...extra };
}

export function clusterConfig(extra: Record<string, string> = {}): Config {
  return loadConfig(clusterProcessEnv(extra));
}

export function clusterOptions(extra: Record<string, string> = {}): ClusterOptions {
  const env = clusterProcessEnv(extra);
  return clusterOptionsFromConfig(loadConfig(env), env);
}
