/**
 * The fault-injection stack (npm run test:faults): the same binaries as `twinflow stack up`, on its own ports (the
 * integration-test ports + 3000) and with its own data under .twinflow/fault-stack, because the fault tests restart
 * its Temporal server and stop its MinIO. The default integration suite (tests/harness/stack.ts) may run at the same
 * time on its own stack and never notices.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Config, loadConfig, PROJECT_ROOT } from '../../lib/config';
import { minioDown, minioUp, type StackOptions, stackOptionsFromConfig, stackStatus, stackUp } from '../../infra/stack';
import { alive } from '../helpers/process';
import { testResourceEnv } from './resources';
import { envWithoutStack, portOffset, stackServiceEnv } from './stack-env';

/** Shifts every port like the integration suite's TWINFLOW_TEST_PORT_OFFSET, so two checkouts can run side by side. */
const OFFSET = portOffset('TWINFLOW_TEST_PORT_OFFSET', 40000);

export const FAULT_STACK_DIR = path.join(PROJECT_ROOT, '.twinflow', 'fault-stack');
/** Per-test scratch (LanceDB folders, corpora, tmpfs mount points): wiped by the global setup. */
export const FAULT_WORK_DIR = path.join(FAULT_STACK_DIR, 'work');
export const FAULT_BUNDLE_PATH = path.join(FAULT_STACK_DIR, 'workflow-bundle.js');
/** Rows measured by the suite (one per fault test, replaced when the test runs again); docs/reliability.md quotes them. */
export const FAULT_REPORT_PATH = path.join(FAULT_STACK_DIR, 'report.json');

export const FAULT_ENV: Record<string, string> = {
  ...stackServiceEnv({ temporal: 20233 + OFFSET, temporalUi: 21233 + OFFSET, minio: 22000 + OFFSET, minioConsole: 22001 + OFFSET }, 'twinflow-faults'),
  TWINFLOW_STACK_DIR: FAULT_STACK_DIR,
  ...testResourceEnv('twinflow-faults'),
};

/** The environment without anything that could point a process at another stack (a developer's or the test stack). */
export function cleanEnv(): Record<string, string> {
  return envWithoutStack({ prefixes: ['EMBEDDING_', 'LANCEDB_'], names: ['VECTOR_STORE'] });
}

/** The environment of every process of the fault suite: the fault stack, plus per-test overrides. */
export function faultEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return { ...cleanEnv(), ...FAULT_ENV, ...overrides };
}

export function faultConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig(faultEnv(overrides));
}

export function faultStackOptions(): StackOptions {
  return stackOptionsFromConfig(faultConfig());
}

const log = (l: string) => process.stderr.write(`[fault-stack] ${l}\n`);

/** The pid that `stack up` recorded for a service (run/<service>.pid), if that process still runs. */
export function servicePid(service: 'temporal' | 'minio'): number | undefined {
  try {
    const pid = Number(fs.readFileSync(path.join(FAULT_STACK_DIR, 'run', `${service}.pid`), 'utf8').split('\n')[0]);
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/** Stops MinIO (what `stack down` does for it: SIGTERM to its process group, SIGKILL after 15 s). */
export async function stopMinio(): Promise<void> {
  await minioDown(faultStackOptions(), log);
}

/** Starts MinIO again on the same data directory and waits until it is healthy. */
export async function startMinio(): Promise<void> {
  await minioUp(faultStackOptions(), log);
}

/**
 * Restarts the Temporal dev server: SIGTERM to the server `stack up` started (its process group), wait until it is
 * gone, wait `pauseMs`, then `stackUp` starts it again on the same SQLite file (MinIO, still running, is left
 * alone). Returns the time the server was down (SIGTERM to healthy again), in ms.
 */
export async function restartTemporal(pauseMs = 0): Promise<{ downMs: number; oldPid: number; newPid: number }> {
  const pid = servicePid('temporal');
  if (!pid) throw new Error('the fault stack has no running Temporal server to restart');
  const stopped = Date.now();
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    process.kill(pid, 'SIGTERM');
  }
  const deadline = Date.now() + 30_000;
  while (alive(pid)) {
    if (Date.now() > deadline) throw new Error(`Temporal (pid ${pid}) did not stop within 30 s of SIGTERM`);
    await sleep(50);
  }
  await sleep(pauseMs);
  await stackUp(faultStackOptions(), log);
  const newPid = servicePid('temporal');
  if (!newPid || newPid === pid) throw new Error('Temporal did not come back as a new process');
  return { downMs: Date.now() - stopped, oldPid: pid, newPid };
}


/** Both services healthy (a test that stopped one must have started it again). */
export async function stackHealthy(): Promise<boolean> {
  return (await stackStatus(faultStackOptions())).every((s) => s.healthy);
}
