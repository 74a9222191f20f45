import { defineConfig } from 'vitest/config';
import { isClosedChannelRetry } from './client/closed-channel';
import { testResourceEnv } from './tests/harness/resources';

export default defineConfig({
  test: {
    // A test's Temporal client connection closed while @temporalio/client had a gRPC retry pending throws
    // "Channel has been shut down" from that retry's timer (client/closed-channel.ts); only that error is ignored.
    onUnhandledError: (error) => !isClosedChannelRetry(error),
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          // What the tests may read, allowed explicitly (the defaults refuse temp folders): tests/harness/resources.ts.
          env: testResourceEnv(),
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          // Minutes long (a real fine-tune): npm run test:secrets (vitest.secrets.config.ts).
          // Minutes long too (the trainer several times): npm run test:review (vitest.review.config.ts).
          exclude: ['tests/integration/security/secret-scan.test.ts', 'tests/integration/train/review*.test.ts', 'tests/integration/train/eval-model*.test.ts'],
          env: testResourceEnv(),
          globalSetup: ['tests/harness/global-setup.ts'],
          // Temporal's native worker runs best in child processes, one file per process.
          pool: 'forks',
          testTimeout: 180_000,
          // Fixture set-up hooks embed real corpora with the CPU model: minutes on a fresh 2-core machine (later runs
          // hit the persistent test embedding cache and take seconds).
          hookTimeout: 900_000,
        },
      },
    ],
  },
});
