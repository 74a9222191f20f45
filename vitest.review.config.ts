/**
 * The model comparison, human review and preference-tuning suite (`npm run test:review`): review*.test.ts,
 * eval-model*.test.ts, dpo-workflow.test.ts (SFT then DPO, twice: about 1.5 minutes) and example-*.test.ts under
 * tests/integration/train, kept out of the default `vitest run` (vitest.config.ts excludes them) because each starts
 * the real trainer (tiny model, CPU) several times: variants, generation, the review wait; about 5-10 minutes on
 * 2 busy cores. It runs on the integration test stack.
 */
import { defineConfig } from 'vitest/config';
import { testResourceEnv } from './tests/harness/resources';
import { onUnhandledError, stackSuite } from './tests/harness/vitest-shared';

export default defineConfig({
  test: {
    onUnhandledError,
    include: ['tests/integration/train/review*.test.ts', 'tests/integration/train/eval-model*.test.ts', 'tests/integration/train/dpo-workflow.test.ts', 'tests/integration/train/example-*.test.ts'],
    ...stackSuite({ globalSetup: 'tests/harness/global-setup.ts', env: testResourceEnv(), testTimeout: 900_000, hookTimeout: 900_000 }),
  },
});
