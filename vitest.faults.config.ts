/**
 * The fault-injection suite (`npm run test:faults`), kept out of the default `vitest run` (vitest.config.ts): it runs
 * its own stack (.twinflow/fault-stack, ports of the test stack + 3000), restarts that stack's Temporal server, stops
 * its MinIO and kills worker processes, one fault at a time. See docs/reliability.md.
 */
import { defineConfig } from 'vitest/config';
import { isClosedChannelRetry } from './client/closed-channel';
import { testResourceEnv } from './tests/harness/resources';

export default defineConfig({
  test: {
    // See vitest.config.ts: only the closed-channel retry error of @temporalio/client is ignored.
    onUnhandledError: (error) => !isClosedChannelRetry(error),
    // One test file at a time: the faults act on the one shared fault stack.
    fileParallelism: false,
    projects: [
      {
        test: {
          name: 'faults',
          include: ['tests/faults/**/*.test.ts'],
          // What the tests may read, allowed explicitly (tests/harness/resources.ts; the workers get FAULT_ENV's).
          env: testResourceEnv('twinflow-faults'),
          globalSetup: ['tests/harness/fault-global-setup.ts'],
          pool: 'forks',
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
