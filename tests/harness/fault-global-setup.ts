/**
 * vitest globalSetup of the fault suite (vitest.faults.config.ts): brings up the fault stack (own ports, own data
 * under .twinflow/fault-stack), bundles the workflows once for the worker processes, and at the end stops the
 * stack (unless TWINFLOW_KEEP_FAULT_STACK is set) and renders the measured rows to .twinflow/fault-stack/report.md.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { stackDown, stackUp } from '../../infra/stack';
import { WORKFLOWS_PATH } from '../../workers/worker';
import { readReport, renderReport, updateSuite } from './fault-report';
import { FAULT_BUNDLE_PATH, FAULT_STACK_DIR, FAULT_WORK_DIR, faultStackOptions } from './fault-stack';

const log = (l: string) => process.stderr.write(`[fault-stack] ${l}\n`);

/** Mount points under the fault stack's folder that a killed earlier run left behind (the vector-store test's tmpfs). */
export function staleMounts(): string[] {
  let mounts: string;
  try {
    mounts = fs.readFileSync('/proc/mounts', 'utf8');
  } catch {
    return [];
  }
  return mounts
    .split('\n')
    .map((l) => l.split(' ')[1]?.replace(/\\040/g, ' '))
    .filter((m): m is string => !!m && m.startsWith(`${FAULT_STACK_DIR}/`));
}

export default async function setup(): Promise<() => Promise<void>> {
  const started = Date.now();
  for (const m of staleMounts()) spawnSync('umount', ['-l', m]);
  fs.rmSync(FAULT_WORK_DIR, { recursive: true, force: true });
  fs.mkdirSync(FAULT_WORK_DIR, { recursive: true });
  const options = faultStackOptions();
  await stackUp(options, log);

  const t = Date.now();
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: undefined });
  const tmp = `${FAULT_BUNDLE_PATH}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, code);
  fs.renameSync(tmp, FAULT_BUNDLE_PATH);
  log(`workflow bundle built in ${Date.now() - t} ms`);
  const startedAt = new Date(started).toISOString();
  updateSuite({ startedAt, wallMs: undefined, testsRun: undefined, machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB` });

  return async () => {
    const report = readReport();
    const testsRun = report.rows.filter((r) => r.at && r.at >= startedAt).length;
    updateSuite({ wallMs: Date.now() - started, testsRun });
    fs.writeFileSync(path.join(FAULT_STACK_DIR, 'report.md'), renderReport());
    log(`report: ${path.join(FAULT_STACK_DIR, 'report.json')} (rows), report.md (table)`);
    for (const m of staleMounts()) spawnSync('umount', ['-l', m]);
    if (!process.env.TWINFLOW_KEEP_FAULT_STACK) await stackDown(options, log);
  };
}
