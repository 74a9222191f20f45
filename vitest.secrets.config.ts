/**
 * The secret scan (`npm run test:secrets`, tests/integration/security/secret-scan.test.ts), kept out of the default
 * `vitest run` (vitest.config.ts) because it fine-tunes the tiny model for real: 283 s measured on 2 busy cores. It runs
 * on the integration test stack.
 */
import { defineConfig } from 'vitest/config';
import { testResourceEnv } from './tests/harness/resources';
import { onUnhandledError, stackSuite } from './tests/harness/vitest-shared';

export default defineConfig({
  test: {
    onUnhandledError,
    include: ['tests/integration/security/secret-scan.test.ts'],
    ...stackSuite({ globalSetup: 'tests/harness/global-setup.ts', env: testResourceEnv(), testTimeout: 900_000, hookTimeout: 900_000 }),
  },
});
