/**
 * What every vitest config of the project sets alike (vitest.config.ts, vitest.{secrets,review,faults,cluster}.config.ts,
 * tests/demo/vitest.config.ts): which unhandled error is ignored, and how a suite on a real stack runs.
 */
import { isClosedChannelRetry } from '../../client/closed-channel';

/**
 * A test's Temporal client connection closed while @temporalio/client had a gRPC retry pending throws "Channel has
 * been shut down" from that retry's timer (client/closed-channel.ts); only that error is ignored.
 */
export const onUnhandledError = (error: unknown): boolean => !isClosedChannelRetry(error);

export interface StackSuiteOptions {
  /** Starts (or finds) the suite's stack: tests/harness/global-setup.ts, fault-global-setup.ts, cluster/global-setup.ts. */
  globalSetup: string;
  /** What the tests may read (tests/harness/resources.ts). */
  env?: Record<string, string>;
  testTimeout: number;
  hookTimeout: number;
  /** One file at a time: the tests act on one shared stack (restart it, kill its workers). */
  serial?: boolean;
}

/** A suite on a real stack: Temporal's native worker runs best in child processes, one file per process. */
export function stackSuite(o: StackSuiteOptions) {
  return {
    ...(o.env ? { env: o.env } : {}),
    globalSetup: [o.globalSetup],
    pool: 'forks' as const,
    ...(o.serial ? { fileParallelism: false } : {}),
    testTimeout: o.testTimeout,
    hookTimeout: o.hookTimeout,
  };
}

/**
 * The test settings of a suite that owns a stack and acts on it one file at a time (the fault suite restarts its
 * Temporal server and stops its MinIO; the cluster rehearsal kills its workers): one project, `name`, no file
 * parallelism at either level.
 */
export function serialStackSuite(name: string, include: string[], o: Omit<StackSuiteOptions, 'serial'>) {
  return {
    onUnhandledError,
    fileParallelism: false,
    projects: [{ test: { name, include, ...stackSuite({ ...o, serial: true }) } }],
  };
}
