/**
 * `npm run test:demo`: the demo end to end, twice (tests/demo/demo.test.ts), on the integration test stack. Its own
 * command because it takes minutes (two demo runs, each with a CPU training run); `npm test` runs the fast checks of
 * the demo (tests/unit/cli/demo.test.ts).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { testResourceEnv } from '../harness/resources';
import { onUnhandledError, stackSuite } from '../harness/vitest-shared';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export default defineConfig({
  test: {
    root,
    include: ['tests/demo/**/*.test.ts'],
    onUnhandledError,
    // What the test may read, allowed explicitly (tests/harness/resources.ts); the demo allows its own sources too.
    // A cold machine embeds the whole demo corpus with the CPU model in the first run.
    ...stackSuite({ globalSetup: 'tests/harness/global-setup.ts', env: testResourceEnv(), testTimeout: 1_200_000, hookTimeout: 600_000 }),
  },
});
