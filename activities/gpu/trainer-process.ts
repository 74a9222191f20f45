/**
 * Runs the Python trainer (`python -m twinflow_trainer train|dpo|generate --config FILE`) as a subprocess and turns its
 * stdout, which carries only JSON event lines, into calls of `onEvent`, one at a time in order.
 *
 * The child gets its own process group, so stopping it also stops whatever it started (data loader workers, vLLM
 * engine processes): on abort, SIGTERM to the group, then SIGKILL after the grace period. stderr (logs) goes to a
 * file and its tail is kept for error messages.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createInterface } from 'node:readline';

export interface TrainerEvent {
  event: string;
  [key: string]: unknown;
}

export type TrainerFailureKind = 'config' | 'runtime' | 'cancelled';

export class TrainerError extends Error {
  override name = 'TrainerError';
  constructor(
    message: string,
    readonly kind: TrainerFailureKind,
    readonly exitCode: number | null,
    readonly stderrTail: string,
  ) {
    super(message);
  }
}

export interface RunTrainerOptions {
  python: string;
  command: 'train' | 'dpo' | 'generate';
  configPath: string;
  cwd: string;
  /** Prepended to PYTHONPATH (trainer/src). */
  pythonPath?: string;
  env?: NodeJS.ProcessEnv;
  /** stderr goes here (appended). */
  logFile: string;
  signal?: AbortSignal;
  killGraceMs: number;
  onEvent: (event: TrainerEvent) => void | Promise<void>;
  onSpawn?: (pid: number) => void;
}

const TAIL_BYTES = 4000;

export async function runTrainer(o: RunTrainerOptions): Promise<{ done: TrainerEvent; exitCode: number }> {
  if (o.signal?.aborted) throw new TrainerError('cancelled before start', 'cancelled', null, '');
  if (!fs.existsSync(o.python)) {
    throw new TrainerError(`trainer python not found: ${o.python} (set TWINFLOW_TRAINER_PYTHON or run scripts/setup-python.sh)`, 'config', null, '');
  }
  const env: NodeJS.ProcessEnv = { ...process.env, ...o.env, PYTHONUNBUFFERED: '1' };
  if (o.pythonPath) env.PYTHONPATH = env.PYTHONPATH ? `${o.pythonPath}:${env.PYTHONPATH}` : o.pythonPath;
  const child = spawn(o.python, ['-m', 'twinflow_trainer', o.command, '--config', o.configPath], {
    cwd: o.cwd,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) {
    const err = await new Promise<Error>((resolve) => child.once('error', resolve));
    throw new TrainerError(`cannot start ${o.python}: ${err.message}`, 'runtime', null, '');
  }
  o.onSpawn?.(pid);

  const log = fs.createWriteStream(o.logFile, { flags: 'a' });
  let tail = '';
  child.stderr.on('data', (chunk: Buffer) => {
    log.write(chunk);
    tail = (tail + chunk.toString('utf8')).slice(-TAIL_BYTES);
  });

  let killTimer: NodeJS.Timeout | undefined;
  let cancelled = false;
  const signalGroup = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      /* already gone */
    }
  };
  const onAbort = () => {
    cancelled = true;
    signalGroup('SIGTERM');
    killTimer = setTimeout(() => signalGroup('SIGKILL'), o.killGraceMs);
  };
  o.signal?.addEventListener('abort', onAbort, { once: true });

  let done: TrainerEvent | undefined;
  let error: TrainerEvent | undefined;
  let handlerFailure: unknown;
  let chain: Promise<void> = Promise.resolve();
  const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (!line.trim()) return;
    let ev: TrainerEvent;
    try {
      ev = JSON.parse(line) as TrainerEvent;
    } catch {
      tail = (tail + `\n[stdout] ${line}`).slice(-TAIL_BYTES);
      return;
    }
    if (ev.event === 'done') done = ev;
    if (ev.event === 'error') error = ev;
    chain = chain.then(async () => {
      if (handlerFailure) return;
      try {
        await o.onEvent(ev);
      } catch (err) {
        // A handler that fails (e.g. S3 down while uploading a checkpoint) stops the run: it is retried as a whole.
        handlerFailure = err;
        onAbort();
      }
    });
  });

  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  clearTimeout(killTimer);
  o.signal?.removeEventListener('abort', onAbort);
  // After a stop, make sure nothing of the group outlives the run (e.g. a data loader worker left behind).
  if (cancelled) signalGroup('SIGKILL');
  await chain;
  await new Promise<void>((resolve) => log.end(resolve));

  if (handlerFailure) throw handlerFailure;
  if (cancelled) throw new TrainerError(`trainer stopped (${exit.signal ?? `exit ${exit.code}`}) because the activity was cancelled`, 'cancelled', exit.code, tail);
  if (exit.code === 0 && done) return { done, exitCode: 0 };
  const message = typeof error?.message === 'string' ? error.message : `trainer exited with ${exit.signal ?? `code ${exit.code}`} without a result`;
  const kind: TrainerFailureKind = exit.code === 2 || error?.type === 'config' ? 'config' : 'runtime';
  throw new TrainerError(`${message}${kind === 'runtime' && tail ? `\n--- trainer log (tail) ---\n${tail.slice(-1500)}` : ''}`, kind, exit.code, tail);
}
