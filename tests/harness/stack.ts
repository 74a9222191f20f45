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
import { envWithoutStack, portOffset, stackServiceEnv } from './stack-env';

/** Shifts every test port, so two checkouts can run their suites side by side (default 0). */
const OFFSET = portOffset('TWINFLOW_TEST_PORT_OFFSET', 40000);

export const TEST_ENV: Record<string, string> = {
  ...stackServiceEnv({ temporal: 17233 + OFFSET, temporalUi: 18233 + OFFSET, minio: 19000 + OFFSET, minioConsole: 19001 + OFFSET }, 'twinflow-test'),
  TWINFLOW_STACK_DIR: path.join(PROJECT_ROOT, '.twinflow', 'test-stack'),
  ...testResourceEnv('twinflow-test'),
};

export const WORKFLOW_BUNDLE_PATH = path.join(PROJECT_ROOT, '.twinflow', 'test-stack', 'workflow-bundle.js');

/** The configuration integration tests run with: the test stack, plus per-test overrides. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({ ...envWithoutStack(), ...TEST_ENV, ...overrides });
}

export function testStackOptions(): StackOptions {
  return stackOptionsFromConfig(testConfig());
}
