/**
 * The cluster rehearsal (`npm run test:cluster`), kept out of the default `vitest run`: it brings up the cluster
 * profile (the full Temporal server on PostgreSQL, MinIO, two CPU workers and a GPU worker as separate processes,
 * tests/cluster/global-setup.ts), restarts its Temporal server and kills a worker mid-run. See docs/deploy.md.
 */
import { defineConfig } from 'vitest/config';
import { isClosedChannelRetry } from './client/closed-channel';

export default defineConfig({
  test: {
    onUnhandledError: (error) => !isClosedChannelRetry(error),
    fileParallelism: false,
    projects: [
      {
        test: {
          name: 'cluster',
          include: ['tests/cluster/**/*.test.ts'],
          globalSetup: ['tests/cluster/global-setup.ts'],
          pool: 'forks',
          fileParallelism: false,
          testTimeout: 900_000,
          hookTimeout: 900_000,
        },
      },
    ],
  },
});
