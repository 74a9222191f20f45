/**
 * The cluster rehearsal (`npm run test:cluster`), kept out of the default `vitest run`: it brings up the cluster
 * profile (the full Temporal server on PostgreSQL, MinIO, two CPU workers and a GPU worker as separate processes,
 * tests/cluster/global-setup.ts), restarts its Temporal server and kills a worker mid-run. See docs/deploy.md.
 */
import { defineConfig } from 'vitest/config';
import { serialStackSuite } from './tests/harness/vitest-shared';

export default defineConfig({
  test: serialStackSuite('cluster', ['tests/cluster/**/*.test.ts'], { globalSetup: 'tests/cluster/global-setup.ts', testTimeout: 900_000, hookTimeout: 900_000 }),
});
