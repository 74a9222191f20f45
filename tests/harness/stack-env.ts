/**
 * What the three stacks the suites run on (the integration test stack, tests/harness/stack.ts; the fault stack,
 * tests/harness/fault-stack.ts; the cluster rehearsal, tests/cluster/cluster-env.ts) set alike: a port offset read
 * from the environment, the services' ports, the bucket and MinIO's credentials, and an environment cleared of
 * whatever could point a process at another stack. Each stack module adds what is its own.
 */
import path from 'node:path';
import { PROJECT_ROOT } from '../../lib/config';

/** An integer 0..max from `variable` (default 0): shifts every port of a stack, so two checkouts run side by side. */
export function portOffset(variable: string, max: number): number {
  const offset = Number(process.env[variable] ?? 0);
  if (!Number.isInteger(offset) || offset < 0 || offset > max) throw new Error(`${variable}: expected an integer 0-${max}, got ${process.env[variable]}`);
  return offset;
}

export interface StackPorts {
  temporal: number;
  /** The dev server's web UI (the cluster profile's full server has none of its own). */
  temporalUi?: number;
  minio: number;
  minioConsole: number;
}

/** TWINFLOW_HOME, the service ports, the bucket and MinIO's default credentials. */
export function stackServiceEnv(ports: StackPorts, bucket: string): Record<string, string> {
  return {
    TWINFLOW_HOME: path.join(PROJECT_ROOT, '.twinflow'),
    TWINFLOW_TEMPORAL_PORT: String(ports.temporal),
    ...(ports.temporalUi === undefined ? {} : { TWINFLOW_TEMPORAL_UI_PORT: String(ports.temporalUi) }),
    TWINFLOW_MINIO_PORT: String(ports.minio),
    TWINFLOW_MINIO_CONSOLE_PORT: String(ports.minioConsole),
    S3_BUCKET: bucket,
    AWS_ACCESS_KEY_ID: 'minioadmin',
    AWS_SECRET_ACCESS_KEY: 'minioadmin',
  };
}

/** This process's environment without TWINFLOW_* and S3_* (a developer's own stack), and without `also`. */
export function envWithoutStack(also: { prefixes?: string[]; names?: string[] } = {}): Record<string, string> {
  const prefixes = ['TWINFLOW_', 'S3_', ...(also.prefixes ?? [])];
  const names = new Set(['TEMPORAL_ADDRESS', ...(also.names ?? [])]);
  return Object.fromEntries(
    Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined && !names.has(e[0]) && !prefixes.some((p) => e[0].startsWith(p))),
  );
}
