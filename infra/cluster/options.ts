/**
 * Settings of the cluster profile (`twinflow stack up --profile cluster`). The ports the clients use are the usual
 * ones (TWINFLOW_TEMPORAL_PORT is the frontend, TWINFLOW_MINIO_PORT the S3 endpoint), so every other command talks
 * to the cluster with no further setting; the rest are the cluster's own.
 */
import path from 'node:path';
import { z } from 'zod';
import type { Config } from '../../lib/config';

const port = z.coerce.number().int().min(1).max(65_535);
const count = z.coerce.number().int().min(0).max(16);

const clusterEnv = z.object({
  /** PostgreSQL of the cluster (its own server under the cluster folder, not the system's). */
  TWINFLOW_POSTGRES_PORT: port.default(5433),
  /** Folder of the cluster's data, logs and pid files. */
  TWINFLOW_CLUSTER_DIR: z.string().min(1).optional(),
  /** Worker processes the profile starts (0 starts none: run `twinflow worker ...` yourself). */
  TWINFLOW_CLUSTER_CPU_WORKERS: count.default(2),
  TWINFLOW_CLUSTER_GPU_WORKERS: count.default(1),
  /** Folder of PostgreSQL's initdb/pg_ctl (default: Debian's PostgreSQL 15, else found on PATH). */
  TWINFLOW_POSTGRES_BIN: z.string().min(1).optional(),
});

export interface ClusterOptions {
  config: Config;
  /** The environment the cluster's worker processes get (the one the configuration was read from). */
  env: NodeJS.ProcessEnv;
  dir: string;
  namespace: string;
  /** The frontend's gRPC port; the server's other services listen just above it (see serverPorts). */
  temporalPort: number;
  postgresPort: number;
  postgresBin?: string;
  minioPort: number;
  minioConsolePort: number;
  cpuWorkers: number;
  gpuWorkers: number;
}

export function clusterOptionsFromConfig(config: Config, env: NodeJS.ProcessEnv = process.env): ClusterOptions {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = clusterEnv.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`Invalid cluster configuration: ${issue.path.join('.')}: ${issue.message}`);
  }
  const e = parsed.data;
  return {
    config,
    env,
    dir: path.resolve(e.TWINFLOW_CLUSTER_DIR ?? path.join(config.home, 'cluster')),
    namespace: config.temporal.namespace,
    temporalPort: config.stack.temporalPort,
    postgresPort: e.TWINFLOW_POSTGRES_PORT,
    postgresBin: e.TWINFLOW_POSTGRES_BIN,
    minioPort: config.stack.minioPort,
    minioConsolePort: config.stack.minioConsolePort,
    cpuWorkers: e.TWINFLOW_CLUSTER_CPU_WORKERS,
    gpuWorkers: e.TWINFLOW_CLUSTER_GPU_WORKERS,
  };
}

/**
 * The Temporal server's ports, all derived from the frontend's (P): history P+1, matching P+2, internal worker P+6,
 * the frontend's HTTP API P+10, membership (ringpop) P+20..P+26, Prometheus metrics P+30.
 */
export function serverPorts(frontend: number) {
  return {
    frontend,
    history: frontend + 1,
    matching: frontend + 2,
    worker: frontend + 6,
    frontendHttp: frontend + 10,
    frontendMembership: frontend + 20,
    historyMembership: frontend + 21,
    matchingMembership: frontend + 22,
    workerMembership: frontend + 26,
    metrics: frontend + 30,
  };
}
