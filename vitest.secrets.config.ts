/**
 * The secret scan (`npm run test:secrets`, tests/integration/security/secret-scan.test.ts), kept out of the default
 * `vitest run` (vitest.config.ts) because it fine-tunes the tiny model for real: 283 s measured on 2 busy cores. It runs
 * on the integration test stack.
 */
import { defineConfig } from 'vitest/config';
import { isClosedChannelRetry } from './client/closed-channel';
import { testResourceEnv } from './tests/harness/resources';

export default defineConfig({
  test: {
    onUnhandledError: (error) => !isClosedChannelRetry(error),
    include: ['tests/integration/security/secret-scan.test.ts'],
    globalSetup: ['tests/harness/global-setup.ts'],
    env: testResourceEnv(),
    pool: 'forks',
    testTimeout: 900_000,
    hookTimeout: 900_000,
  },
});
