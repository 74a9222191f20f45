/**
 * The fault-injection suite (`npm run test:faults`), kept out of the default `vitest run` (vitest.config.ts): it runs
 * its own stack (.twinflow/fault-stack, ports of the test stack + 3000), restarts that stack's Temporal server, stops
 * its MinIO and kills worker processes, one fault at a time. See docs/reliability.md.
 */
import { defineConfig } from 'vitest/config';
import { testResourceEnv } from './tests/harness/resources';
import { onUnhandledError, stackSuite } from './tests/harness/vitest-shared';

export default defineConfig({
  test: {
    onUnhandledError,
    // One test file at a time: the faults act on the one shared fault stack.
    fileParallelism: false,
    projects: [
      {
        test: {
          name: 'faults',
          include: ['tests/faults/**/*.test.ts'],
          // What the tests may read, allowed explicitly (tests/harness/resources.ts; the workers get FAULT_ENV's).
          ...stackSuite({ globalSetup: 'tests/harness/fault-global-setup.ts', env: testResourceEnv('twinflow-faults'), serial: true, testTimeout: 600_000, hookTimeout: 600_000 }),
        },
      },
    ],
  },
});
