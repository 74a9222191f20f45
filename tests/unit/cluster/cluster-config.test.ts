/** The cluster profile's settings and the Temporal server config it generates (no processes started here). */
import { describe, expect, it } from 'vitest';
import { clusterOptionsFromConfig, serverPorts } from '../../../infra/cluster/options';
import { serverConfigYaml } from '../../../infra/cluster/temporal-server';
import { sharedStoreEnv, workerNames } from '../../../infra/cluster/workers';
import { loadConfig } from '../../../lib/config';

const env = { TWINFLOW_HOME: '/tmp/tf-home', TWINFLOW_TEMPORAL_PORT: '27233', TWINFLOW_POSTGRES_PORT: '25432', S3_BUCKET: 'bkt' };

describe('cluster profile settings', () => {
  it('derives every server port from the frontend port, and the defaults of the rest', () => {
    const o = clusterOptionsFromConfig(loadConfig(env), env);
    expect(o).toMatchObject({ dir: '/tmp/tf-home/cluster', temporalPort: 27233, postgresPort: 25432, cpuWorkers: 2, gpuWorkers: 1, namespace: 'default' });
    const p = serverPorts(27233);
    expect(new Set(Object.values(p)).size).toBe(Object.values(p).length);
    const yaml = serverConfigYaml(o);
    for (const port of Object.values(p)) expect(yaml).toContain(String(port));
    expect(yaml).toContain('connectAddr: "127.0.0.1:25432"');
    expect(yaml).toContain('databaseName: "temporal_visibility"');
    expect(yaml).toContain('rpcAddress: "127.0.0.1:27233"');
  });

  it('names the workers it starts, and shares LanceDB on S3 unless a store is configured', () => {
    const o = clusterOptionsFromConfig(loadConfig(env), { ...env, TWINFLOW_CLUSTER_CPU_WORKERS: '3', TWINFLOW_CLUSTER_GPU_WORKERS: '0' });
    expect(workerNames(o).map((w) => w.name)).toEqual(['worker-cpu-1', 'worker-cpu-2', 'worker-cpu-3']);
    expect(sharedStoreEnv(o, {})).toEqual({ LANCEDB_URI: 's3://bkt/lancedb' });
    expect(sharedStoreEnv(o, { LANCEDB_URI: '/data/lance' })).toEqual({});
    expect(sharedStoreEnv(o, { VECTOR_STORE: 'qdrant' })).toEqual({});
  });

  it('a bad setting is one error naming the variable', () => {
    expect(() => clusterOptionsFromConfig(loadConfig(env), { ...env, TWINFLOW_POSTGRES_PORT: 'x' })).toThrow(/TWINFLOW_POSTGRES_PORT/);
    expect(() => clusterOptionsFromConfig(loadConfig(env), { ...env, TWINFLOW_CLUSTER_CPU_WORKERS: '99' })).toThrow(/TWINFLOW_CLUSTER_CPU_WORKERS/);
  });

  it('keeps an s3:// LANCEDB_URI as it is (a path is made absolute)', () => {
    expect(loadConfig({ ...env, LANCEDB_URI: 's3://bkt/lancedb' }).vectorStore.lancedbUri).toBe('s3://bkt/lancedb');
    expect(loadConfig({ ...env, LANCEDB_URI: 'rel/lance' }).vectorStore.lancedbUri).toMatch(/^\/.*\/rel\/lance$/);
  });
});
