import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
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
