/**
 * The fault-injection suite (`npm run test:faults`), kept out of the default `vitest run` (vitest.config.ts): it runs
 * its own stack (.twinflow/fault-stack, ports of the test stack + 3000), restarts that stack's Temporal server, stops
 * its MinIO and kills worker processes, one fault at a time (one test file at a time: the faults act on the one
 * shared fault stack). See docs/reliability.md.
 */
import { defineConfig } from 'vitest/config';
import { testResourceEnv } from './tests/harness/resources';
import { serialStackSuite } from './tests/harness/vitest-shared';

export default defineConfig({
  test: serialStackSuite('faults', ['tests/faults/**/*.test.ts'], {
    globalSetup: 'tests/harness/fault-global-setup.ts',
    // What the tests may read, allowed explicitly (tests/harness/resources.ts; the workers get FAULT_ENV's).
    env: testResourceEnv('twinflow-faults'),
    testTimeout: 600_000,
    hookTimeout: 600_000,
  }),
});
