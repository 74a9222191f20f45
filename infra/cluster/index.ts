/**
 * `twinflow stack up|down|status --profile cluster`: a production-shaped deployment on one machine, without Docker,
 * brought up in the order of docs/deploy.md: PostgreSQL → Temporal's schemas → the Temporal server → namespace and
 * search attributes → MinIO (S3) → the workflow bundle → the CPU and GPU workers. Every piece is a real process
 * with a pid file and a log under <cluster dir> (TWINFLOW_CLUSTER_DIR, default .twinflow/cluster); data stays there
 * across `down`/`up`.
 */
import fs from 'node:fs';
import type { Config } from '../../lib/config';
import { minioHealthy } from '../health';
import { minioDown, minioUp, stackOptionsFromConfig } from '../stack';
import { type ClusterOptions, clusterOptionsFromConfig, serverPorts } from './options';
import { postgresDown, postgresReady, postgresUp } from './postgres';
import { logFileOf, ownedPid, recordedNames, stopProcess } from '../processes';
import { ensureServerBinaries, frontendHealthy, registerNamespace, setupSchemas, startServer, waitForServer } from './temporal-server';
import { buildBundle, sharedStoreEnv, workerNames, workersUp } from './workers';

export { clusterOptionsFromConfig, type ClusterOptions } from './options';

export interface ClusterServiceStatus {
  name: string;
  running: boolean;
  healthy: boolean;
  pid?: number;
  url: string;
  log: string;
}

const minioOptions = (o: ClusterOptions) => stackOptionsFromConfig(o.config, { dir: o.dir, minioPort: o.minioPort, minioConsolePort: o.minioConsolePort });

export async function clusterUp(o: ClusterOptions, log: (l: string) => void = console.log): Promise<ClusterServiceStatus[]> {
  fs.mkdirSync(o.dir, { recursive: true });
  const bins = await ensureServerBinaries(o.config.home, log);
  await postgresUp(o, log);
  if (!(ownedPid(o.dir, 'temporal-server') && (await frontendHealthy(o)))) {
    setupSchemas(o, bins, log);
    const pid = startServer(o, bins);
    log(`temporal: server ${bins.server} started (pid ${pid}), waiting for the frontend on 127.0.0.1:${o.temporalPort}`);
    await waitForServer(o);
  } else log(`temporal: already running on 127.0.0.1:${o.temporalPort}`);
  await registerNamespace(o, bins, log);
  await minioUp(minioOptions(o), log);
  if (workerNames(o).length > 0) {
    buildBundle(o, log);
    await workersUp(o, log);
  }
  for (const [k, v] of Object.entries(sharedStoreEnv(o))) log(`workers share the vector store ${v}: export ${k}=${v} for the CLI too`);
  return clusterStatus(o);
}

/** Stops workers first (they finish or hand back their activities), then the server, MinIO and PostgreSQL. */
export async function clusterDown(o: ClusterOptions, log: (l: string) => void = console.log): Promise<void> {
  const workers = recordedNames(o.dir).filter((n) => n.startsWith('worker-'));
  await Promise.all(
    workers.map(async (name) => {
      const pid = await stopProcess(o.dir, name, 150_000);
      log(`${name}: ${pid ? `stopped (pid ${pid})` : 'not running'}`);
    }),
  );
  const server = await stopProcess(o.dir, 'temporal-server');
  log(`temporal-server: ${server ? `stopped (pid ${server})` : 'not running'}`);
  await minioDown(minioOptions(o), log);
  await postgresDown(o, log);
}

export async function clusterStatus(o: ClusterOptions): Promise<ClusterServiceStatus[]> {
  const p = serverPorts(o.temporalPort);
  const entry = (name: string, healthy: boolean, url: string): ClusterServiceStatus => {
    const pid = ownedPid(o.dir, name);
    return { name, running: pid !== undefined, healthy: pid !== undefined && healthy, pid, url, log: logFileOf(o.dir, name) };
  };
  const [pg, temporal, minio] = await Promise.all([postgresReady(o).catch(() => false), frontendHealthy(o, o.namespace), minioHealthy(o.minioPort)]);
  const workers = [...new Set([...workerNames(o).map((w) => w.name), ...recordedNames(o.dir).filter((n) => n.startsWith('worker-'))])];
  return [
    entry('postgres', pg, `postgresql://127.0.0.1:${o.postgresPort}`),
    entry('temporal-server', temporal, `grpc://127.0.0.1:${p.frontend} (http ${p.frontendHttp})`),
    entry('minio', minio, `http://127.0.0.1:${o.minioPort}`),
    // A worker is healthy while its process runs; whether it polls shows in `twinflow runs` / the task queue.
    ...workers.map((name) => entry(name, true, name.includes('gpu') ? `task queue ${o.config.temporal.gpuTaskQueue}` : `task queue ${o.config.temporal.taskQueue}`)),
  ];
}

export function clusterOptions(config: Config): ClusterOptions {
  return clusterOptionsFromConfig(config);
}
