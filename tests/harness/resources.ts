/**
 * What the tests' workers may read, allowed explicitly (the defaults refuse it; docs/security.md): the folders,
 * records and file:// repositories tests make in the OS temp folder or keep in this repository, and the stack's
 * bucket. No heavy imports: vitest.config.ts sets the same in its own processes, for tests that build sources directly.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function testResourceEnv(bucket = 'twinflow-test'): Record<string, string> {
  return {
    TWINFLOW_ALLOW_PATHS: [os.tmpdir(), PROJECT_ROOT].join(','),
    TWINFLOW_ALLOW_BUCKETS: bucket,
    // The test servers (sites, git remotes, fake LLM endpoints) listen on 127.0.0.1, which workers refuse by default.
    TWINFLOW_ALLOW_NETWORKS: 'loopback',
  };
}
