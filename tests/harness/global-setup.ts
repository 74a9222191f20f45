/** vitest globalSetup for integration tests: bring the test stack up once and bundle the workflows once. */
import fs from 'node:fs';
import { bundleWorkflowCode } from '@temporalio/worker';
import { stackDown, stackStatus, stackUp } from '../../infra/stack';
import { WORKFLOWS_PATH } from '../../workers/worker';
import { testStackOptions, WORKFLOW_BUNDLE_PATH } from './stack';

export default async function setup(): Promise<() => Promise<void>> {
  const options = testStackOptions();
  const before = await stackStatus(options);
  const alreadyUp = before.every((s) => s.healthy && s.running);
  const log = (l: string) => process.stderr.write(`[test-stack] ${l}\n`);
  await stackUp(options, log);

  const started = Date.now();
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: undefined });
  fs.mkdirSync(options.dir, { recursive: true });
  // Atomic replace: another test run sharing the stack may be loading the bundle right now.
  const tmp = `${WORKFLOW_BUNDLE_PATH}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, code);
  fs.renameSync(tmp, WORKFLOW_BUNDLE_PATH);
  log(`workflow bundle built in ${Date.now() - started} ms`);

  return async () => {
    if (!alreadyUp && !process.env.TWINFLOW_KEEP_TEST_STACK) await stackDown(options, log);
  };
}
