import { defineConfig } from 'vitest/config';
import { testResourceEnv } from './tests/harness/resources';
import { onUnhandledError, stackSuite } from './tests/harness/vitest-shared';

export default defineConfig({
  test: {
    // Only @temporalio/client's closed-channel retry error is ignored (tests/harness/vitest-shared.ts).
    onUnhandledError,
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
          // The DPO stage and the tiny example's gate train several times as well: in test:review too.
          exclude: [
            'tests/integration/security/secret-scan.test.ts',
            'tests/integration/train/review*.test.ts',
            'tests/integration/train/eval-model*.test.ts',
            'tests/integration/train/dpo-workflow.test.ts',
            'tests/integration/train/example-*.test.ts',
          ],
          // Fixture set-up hooks embed real corpora with the CPU model: minutes on a fresh 2-core machine (later runs
          // hit the persistent test embedding cache and take seconds).
          ...stackSuite({ globalSetup: 'tests/harness/global-setup.ts', env: testResourceEnv(), testTimeout: 180_000, hookTimeout: 900_000 }),
        },
      },
    ],
  },
});
