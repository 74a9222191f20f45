/**
 * The integration-test stack: the same binaries as `twinflow stack up`, on ports that do not clash with a developer's
 * own stack (7233/8233/9000/9001), with data under .twinflow/test-stack. Started by the harness when not already
 * running; stopped at the end only if the harness started it.
 */
import path from 'node:path';
import { type Config, loadConfig, PROJECT_ROOT } from '../../lib/config';
import type { StackOptions } from '../../infra/stack';
import { stackOptionsFromConfig } from '../../infra/stack';

export const TEST_ENV: Record<string, string> = {
  TWINFLOW_HOME: path.join(PROJECT_ROOT, '.twinflow'),
  TWINFLOW_STACK_DIR: path.join(PROJECT_ROOT, '.twinflow', 'test-stack'),
  TWINFLOW_TEMPORAL_PORT: '17233',
  TWINFLOW_TEMPORAL_UI_PORT: '18233',
  TWINFLOW_MINIO_PORT: '19000',
  TWINFLOW_MINIO_CONSOLE_PORT: '19001',
  S3_BUCKET: 'twinflow-test',
  AWS_ACCESS_KEY_ID: 'minioadmin',
  AWS_SECRET_ACCESS_KEY: 'minioadmin',
};

export const WORKFLOW_BUNDLE_PATH = path.join(PROJECT_ROOT, '.twinflow', 'test-stack', 'workflow-bundle.js');

/** The configuration integration tests run with: the test stack, plus per-test overrides. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TWINFLOW_') && !k.startsWith('S3_') && k !== 'TEMPORAL_ADDRESS'));
  return loadConfig({ ...base, ...TEST_ENV, ...overrides });
}

export function testStackOptions(): StackOptions {
  return stackOptionsFromConfig(testConfig());
}
