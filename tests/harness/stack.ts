/**
 * The integration-test stack: the same binaries as `twinflow stack up`, on ports that do not clash with a developer's
 * own stack (7233/8233/9000/9001), with data under .twinflow/test-stack. Started by the harness when not already
 * running; stopped at the end only if the harness started it.
 */
import path from 'node:path';
import { type Config, loadConfig, PROJECT_ROOT } from '../../lib/config';
import type { StackOptions } from '../../infra/stack';
import { stackOptionsFromConfig } from '../../infra/stack';
import { testResourceEnv } from './resources';

/** Shifts every test port, so two checkouts can run their suites side by side (default 0). */
const OFFSET = Number(process.env.TWINFLOW_TEST_PORT_OFFSET ?? 0);
if (!Number.isInteger(OFFSET) || OFFSET < 0 || OFFSET > 40000) throw new Error(`TWINFLOW_TEST_PORT_OFFSET: expected an integer 0-40000, got ${process.env.TWINFLOW_TEST_PORT_OFFSET}`);

export const TEST_ENV: Record<string, string> = {
  TWINFLOW_HOME: path.join(PROJECT_ROOT, '.twinflow'),
  TWINFLOW_STACK_DIR: path.join(PROJECT_ROOT, '.twinflow', 'test-stack'),
  TWINFLOW_TEMPORAL_PORT: String(17233 + OFFSET),
  TWINFLOW_TEMPORAL_UI_PORT: String(18233 + OFFSET),
  TWINFLOW_MINIO_PORT: String(19000 + OFFSET),
  TWINFLOW_MINIO_CONSOLE_PORT: String(19001 + OFFSET),
  S3_BUCKET: 'twinflow-test',
  AWS_ACCESS_KEY_ID: 'minioadmin',
  AWS_SECRET_ACCESS_KEY: 'minioadmin',
  ...testResourceEnv('twinflow-test'),
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
