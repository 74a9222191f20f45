/**
 * Supervision of the background processes both stack profiles run (the dev stack's Temporal dev server and MinIO,
 * the cluster's PostgreSQL, Temporal server and workers): started detached (their own process group, so they outlive
 * the CLI), logged to <dir>/logs/<name>.log, remembered in <dir>/run/<name>.pid with a marker from their command line,
 * so that `down` and `status` act only on what `up` started, never on a recycled pid.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A stack (either profile) could not start, stop or reach one of its processes. The CLI prints it without a trace. */
export class StackError extends Error {
  override name = 'StackError';
}

export interface ProcessSpec {
  /** A name unique in the stack folder: the pid and log file names (`minio`, `temporal-server`, `worker-cpu-1`, ...). */
  name: string;
  command: string;
  args: string[];
  /** The whole environment of the process (default: this process's). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run as this user (a uid) when the CLI runs as root: PostgreSQL refuses to run as root. */
  uid?: number;
  gid?: number;
  /** A string of the process's command line that identifies it (default: the command's basename). */
  marker?: string;
}

export const runDir = (dir: string) => path.join(dir, 'run');
export const logDir = (dir: string) => path.join(dir, 'logs');
export const pidFileOf = (dir: string, name: string) => path.join(runDir(dir), `${name}.pid`);
export const logFileOf = (dir: string, name: string) => path.join(logDir(dir), `${name}.log`);

/** Whether any process, a zombie included, has this pid. */
function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The command line of a live, non-zombie process, or undefined (portable: `ps` exists on Linux and macOS). A zombie
 * counts as gone: it has exited, and waiting for it to go would wait for its parent to reap it.
 */
export function commandLine(pid: number): string | undefined {
  if (!exists(pid)) return undefined;
  const ps = spawnSync('ps', ['-p', String(pid), '-o', 'stat=,command='], { encoding: 'utf8' });
  const out = ps.stdout?.trim();
  if (!out || out.startsWith('Z')) return undefined;
  return out.replace(/^\S+\s+/, '');
}

/** The pid recorded for `name`, if that process still runs and is still the one started. */
export function ownedPid(dir: string, name: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(pidFileOf(dir, name), 'utf8');
  } catch {
    return undefined;
  }
  const [pidText, marker] = text.trim().split('\n');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const cmd = commandLine(pid);
  // A recycled pid running something else is not ours: never signal it.
  if (!cmd || (marker && !cmd.includes(marker))) return undefined;
  return pid;
}

/** Names with a pid file in the folder (running or not). */
export function recordedNames(dir: string): string[] {
  try {
    return fs
      .readdirSync(runDir(dir))
      .filter((f) => f.endsWith('.pid'))
      .map((f) => f.slice(0, -'.pid'.length))
      .sort();
  } catch {
    return [];
  }
}

/** Starts the process in its own process group, output appended to its log; records its pid and marker. */
export function startDetached(dir: string, spec: ProcessSpec): number {
  fs.mkdirSync(runDir(dir), { recursive: true });
  fs.mkdirSync(logDir(dir), { recursive: true });
  const log = logFileOf(dir, spec.name);
  const out = fs.openSync(log, 'a');
  fs.writeSync(out, `\n--- ${new Date().toISOString()} ${spec.name} starting: ${spec.command} ${spec.args.join(' ')}\n`);
  if (spec.uid !== undefined) fs.fchownSync(out, spec.uid, spec.gid ?? spec.uid);
  const child = spawn(spec.command, spec.args, {
    detached: true, // its own process group: survives the CLI and is stopped by `down`
    stdio: ['ignore', out, out],
    env: spec.env ?? process.env,
    cwd: spec.cwd,
    uid: spec.uid,
    gid: spec.gid,
  });
  fs.closeSync(out);
  if (!child.pid) throw new StackError(`could not start ${spec.name} (${spec.command})`);
  child.unref();
  fs.writeFileSync(pidFileOf(dir, spec.name), `${child.pid}\n${spec.marker ?? path.basename(spec.command)}\n`);
  return child.pid;
}

/**
 * SIGTERM to the process group started for `name` (the process and any children it spawned), SIGKILL after
 * `graceMs`; then removes the pid file. Returns the pid it stopped, or undefined when none of ours was running.
 */
export async function stopProcess(dir: string, name: string, graceMs = 20_000): Promise<number | undefined> {
  const pid = ownedPid(dir, name);
  if (!pid) {
    fs.rmSync(pidFileOf(dir, name), { force: true });
    return undefined;
  }
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (commandLine(pid) && Date.now() < deadline) await sleep(100);
  if (commandLine(pid)) {
    signal('SIGKILL');
    while (commandLine(pid)) await sleep(100);
  }
  // It has exited; its parent (init, once the CLI that started it is gone) reaps it within moments. Waiting for that,
  // briefly, means that after `down` the pid is gone, not a zombie; a parent that never reaps does not hang `down`.
  const reapDeadline = Date.now() + 5_000;
  while (exists(pid) && Date.now() < reapDeadline) await sleep(50);
  // Removed only now: a `down` interrupted while waiting leaves the pid file, so the next `down` finds the process.
  fs.rmSync(pidFileOf(dir, name), { force: true });
  return pid;
}

export function logTail(file: string, lines = 20): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Polls `check` until it holds; past `timeoutMs`, throws a StackError with the last lines of `log`. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, log?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(250);
  }
  throw new StackError(`${what} was not ready within ${timeoutMs / 1000}s${log ? `; last lines of ${log}:\n${logTail(log)}` : ''}`);
}

/** Runs a command to completion; throws with its output when it fails. */
export function runOnce(command: string, args: string[], opts: { env?: NodeJS.ProcessEnv; uid?: number; gid?: number; cwd?: string; what: string }): string {
  const r = spawnSync(command, args, { encoding: 'utf8', env: opts.env ?? process.env, uid: opts.uid, gid: opts.gid, cwd: opts.cwd });
  if (r.error) throw new StackError(`${opts.what}: could not run ${command}: ${r.error.message}`);
  if (r.status !== 0) throw new StackError(`${opts.what} failed (exit ${r.status}): ${command} ${args.join(' ')}\n${(r.stdout + r.stderr).trim().slice(-3000)}`);
  return r.stdout;
}
