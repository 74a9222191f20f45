/**
 * Real worker processes for the fault suite: `node --import tsx workers/cpu.ts` (or workers/gpu.ts), the entry
 * points `twinflow worker cpu|gpu` run, configured only by environment, on the fault stack. Each is its own OS
 * process, so a test can SIGKILL it in the middle of an activity, as a crashed machine would, and read its peak RSS.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PROJECT_ROOT } from '../../lib/config';
import { FAULT_BUNDLE_PATH, FAULT_WORK_DIR, faultEnv } from './fault-stack';

export interface WorkerProcess {
  kind: 'cpu' | 'gpu';
  pid: number;
  taskQueue: string;
  /** Temporal's default worker identity is `<pid>@<hostname>`: pending activities name the worker that holds them. */
  identityPrefix: string;
  proc: ChildProcess;
  log: string;
  /** Resolves with the exit code or signal once the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** kill -9, and wait until the process is gone. */
  kill(): Promise<void>;
  /** SIGSTOP: frozen in place (an activity it runs cannot complete); `resume` is SIGCONT. */
  freeze(): void;
  resume(): void;
  /** Graceful stop (SIGTERM; SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
  /** VmHWM (peak resident set) and VmRSS of the process, in KiB, from /proc/<pid>/status. */
  memory(): { peakKiB: number; rssKiB: number };
  /** The direct children of the process (e.g. the Python trainer of a GPU worker). */
  children(): number[];
  logTail(chars?: number): string;
}

export interface StartWorkerOptions {
  kind: 'cpu' | 'gpu';
  taskQueue: string;
  /** Extra environment (LANCEDB_URI, EMBEDDING_*, TWINFLOW_MAX_CONCURRENT_ACTIVITIES, ...). */
  env?: Record<string, string>;
  /** A name for the log file (under .twinflow/fault-stack/work/logs). */
  name?: string;
  readyTimeoutMs?: number;
}

const ENTRY = { cpu: path.join(PROJECT_ROOT, 'workers', 'cpu.ts'), gpu: path.join(PROJECT_ROOT, 'workers', 'gpu.ts') };
const READY = { cpu: 'twinflow CPU worker polling', gpu: 'twinflow GPU worker polling' };

let counter = 0;
/** Worker processes still running when this test process exits (a test interrupted midway) are killed with it. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

export async function startWorkerProcess(o: StartWorkerOptions): Promise<WorkerProcess> {
  const logDir = path.join(FAULT_WORK_DIR, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  const log = path.join(logDir, `${o.name ?? `${o.kind}-worker`}-${process.pid}-${++counter}.log`);
  const queueVar = o.kind === 'cpu' ? 'TWINFLOW_TASK_QUEUE' : 'TWINFLOW_GPU_TASK_QUEUE';
  const env = faultEnv({ [queueVar]: o.taskQueue, TWINFLOW_WORKFLOW_BUNDLE: FAULT_BUNDLE_PATH, ...o.env });
  const proc = spawn(process.execPath, ['--import', 'tsx', ENTRY[o.kind]], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (!proc.pid) throw new Error(`could not start the ${o.kind} worker`);
  const pid = proc.pid;
  running.add(proc);
  const out = fs.createWriteStream(log);
  let tail = '';
  const onData = (d: Buffer) => {
    out.write(d);
    tail = (tail + d.toString('utf8')).slice(-8000);
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('exit', (code, signal) => {
      running.delete(proc);
      out.end();
      resolve({ code, signal });
    });
  });

  const statusKiB = (field: string): number => {
    try {
      const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      return m ? Number(m[1]) : 0;
    } catch {
      return 0;
    }
  };
  const gone = () => proc.exitCode !== null || proc.signalCode !== null;
  const w: WorkerProcess = {
    kind: o.kind,
    pid,
    taskQueue: o.taskQueue,
    identityPrefix: `${pid}@`,
    proc,
    log,
    exited,
    async kill() {
      if (!gone()) proc.kill('SIGKILL');
      await exited;
    },
    freeze() {
      proc.kill('SIGSTOP');
    },
    resume() {
      proc.kill('SIGCONT');
    },
    async stop(graceMs = 20_000) {
      if (gone()) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    memory: () => ({ peakKiB: statusKiB('VmHWM'), rssKiB: statusKiB('VmRSS') }),
    children() {
      const kids: number[] = [];
      for (const entry of fs.readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        try {
          const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
          // pid (comm) state ppid ...: comm may contain spaces and parentheses, so parse from the last ')'.
          const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
          if (ppid === pid) kids.push(Number(entry));
        } catch {
          /* gone meanwhile */
        }
      }
      return kids;
    },
    logTail: (chars = 3000) => tail.slice(-chars),
  };

  const deadline = Date.now() + (o.readyTimeoutMs ?? 120_000);
  while (!tail.includes(READY[o.kind])) {
    if (gone()) throw new Error(`the ${o.kind} worker exited before it was ready (log ${log}):\n${tail.slice(-3000)}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`the ${o.kind} worker was not ready within ${(o.readyTimeoutMs ?? 120_000) / 1000} s (log ${log}):\n${tail.slice(-3000)}`);
    }
    await sleep(50);
  }
  return w;
}
