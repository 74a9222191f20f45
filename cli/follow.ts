/**
 * What every `twinflow` command shares about runs and output: the exit codes (docs/cli.md), the one-line error report
 * (and its JSON form with --json), the progress display (a cli-progress bar on a terminal, plain lines otherwise), and
 * `followRun`: after a start, say what was started (or found running), check that a worker polls the run's task
 * queues, follow its progress and print its result or, in one line, why it failed.
 */
import cliProgress from 'cli-progress';
import { CommanderError } from 'commander';
import { ScheduleNotFoundError, WorkflowFailedError, WorkflowNotFoundError, NamespaceNotFoundError } from '@temporalio/client';
import {
  describeFailure,
  type FailureSummary,
  isTemporalUnavailable,
  NoWorkerError,
  noWorkerMessage,
  TemporalUnreachableError,
  type TwinflowClient,
  workerCommand,
  type WorkerNeed,
} from '../client';

/** The exit codes of every command (docs/cli.md). */
export const EXIT = {
  /** Done; the run (when there is one) completed. */
  OK: 0,
  /** The run failed, was cancelled, terminated or timed out; or an unexpected error (printed with its stack). */
  FAILED: 1,
  /** Bad input or usage: a flag, a config file, a configuration variable, a run or schedule that does not exist. */
  USAGE: 2,
  /** Temporal cannot be reached (or the local stack is not healthy: `stack status`). */
  UNREACHABLE: 3,
  /** No worker polls the run's task queue: the run is kept, waiting (see --wait-for-worker). */
  NO_WORKER: 4,
  /** Interrupted (SIGINT, Ctrl-C) while waiting: the run goes on. */
  INTERRUPTED: 130,
} as const;

/** Thrown after a command printed its outcome itself: main exits with `exitCode` and prints nothing more. */
export class CliExit extends Error {
  override name = 'CliExit';
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

/** One JSON document on stdout (--json). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * Prints what went wrong (one line on stderr; with --json also `{ "error": { exitCode, message } }` on stdout) and
 * returns the exit code. `expected` are the error classes whose message is meant for the user (bad input: code 2).
 */
export function reportFatal(err: unknown, opts: { expected: readonly ErrorClass[]; json: boolean }): number {
  if (err instanceof CliExit) return err.exitCode;
  // Commander printed its message (or the help) already; usage errors are code 2, help and --version 0.
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT.USAGE;
  let code: number;
  let message: string;
  if (opts.expected.some((E) => err instanceof E)) {
    code = EXIT.USAGE;
    message = (err as Error).message;
  } else if (err instanceof WorkflowNotFoundError) {
    code = EXIT.USAGE;
    message = `no run with workflow id "${err.workflowId}"${err.runId ? ` and run id ${err.runId}` : ''} (\`twinflow runs list\` lists them)`;
  } else if (err instanceof NamespaceNotFoundError) {
    code = EXIT.USAGE;
    message = `${err.message} (TEMPORAL_NAMESPACE)`;
  } else if (err instanceof ScheduleNotFoundError) {
    code = EXIT.USAGE;
    message = err.message;
  } else if (err instanceof NoWorkerError) {
    code = EXIT.NO_WORKER;
    message = err.message;
  } else if (err instanceof TemporalUnreachableError) {
    code = EXIT.UNREACHABLE;
    message = err.message;
  } else if (isTemporalUnavailable(err)) {
    code = EXIT.UNREACHABLE;
    message = `lost the connection to Temporal: ${oneLine((err as Error).message)}`;
  } else if (err instanceof WorkflowFailedError) {
    code = EXIT.FAILED;
    message = `the run failed: ${describeFailure(err).line}`;
  } else {
    // Unexpected: a bug. Its stack is printed whole.
    code = EXIT.FAILED;
    message = err instanceof Error ? err.message : String(err);
    console.error(err);
    if (opts.json) printJson({ error: { exitCode: code, message: oneLine(message) } });
    return code;
  }
  console.error(`twinflow: ${message}`);
  if (opts.json) printJson({ error: { exitCode: code, message: oneLine(message) } });
  return code;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

// ---- progress ----

/** One progress reading: the line shown, and where a bar can be drawn, how far along it is. */
export interface ProgressView {
  line: string;
  value?: number;
  total?: number;
}

export type ProgressMode = 'bar' | 'lines';

/** A bar on a terminal (stderr is a TTY, not --json, TERM not dumb); plain lines otherwise. TWINFLOW_PROGRESS=bar|lines overrides. */
export function progressMode(json: boolean, stream: { isTTY?: boolean } = process.stderr, env: NodeJS.ProcessEnv = process.env): ProgressMode {
  if (env.TWINFLOW_PROGRESS === 'bar' || env.TWINFLOW_PROGRESS === 'lines') return env.TWINFLOW_PROGRESS;
  return !json && stream.isTTY === true && env.TERM !== 'dumb' ? 'bar' : 'lines';
}

export interface ReporterOptions {
  mode: ProgressMode;
  /** Where lines go (lines mode): a stream, or a function given each line (without its newline), e.g. a logger. */
  lines: NodeJS.WritableStream | ((line: string) => void);
  /** Where the bar is drawn (bar mode; default stderr). */
  barStream?: NodeJS.WritableStream;
  /** Most redraws per second (default 5). */
  fps?: number;
}

/** Shows progress readings: redraws a bar, or prints a line each time the reading's line changes. */
export class ProgressReporter {
  private bar?: cliProgress.SingleBar;
  private last?: ProgressView;
  private lastLine = '';

  constructor(private readonly opts: ReporterOptions) {}

  update(view: ProgressView): void {
    this.last = view;
    if (this.opts.mode === 'lines') {
      if (view.line !== this.lastLine) {
        const out = this.opts.lines;
        if (typeof out === 'function') out(view.line);
        else out.write(`${view.line}\n`);
      }
      this.lastLine = view.line;
      return;
    }
    const total = view.total && view.total > 0 ? view.total : 1;
    const value = view.total && view.total > 0 ? Math.min(view.value ?? 0, view.total) : 0;
    if (!this.bar) {
      this.bar = new cliProgress.SingleBar(
        {
          stream: this.opts.barStream ?? process.stderr,
          format: '[{bar}] {percentage}% | {line}',
          barsize: 24,
          hideCursor: true,
          clearOnComplete: false,
          linewrap: false,
          fps: this.opts.fps ?? 5,
          // TWINFLOW_PROGRESS=bar on a stream that is not a terminal: draw anyway (a line every 2 s).
          noTTYOutput: true,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(total, value, { line: view.line });
    } else {
      this.bar.setTotal(total);
      this.bar.update(value, { line: view.line });
    }
  }

  /** A message between progress readings (the bar is closed first and drawn again at the next reading). */
  note(text: string, stream: NodeJS.WritableStream = process.stderr): void {
    const redraw = this.bar !== undefined;
    this.stop();
    stream.write(`${text}\n`);
    if (redraw && this.last) this.update(this.last);
  }

  /** The run completed: a full bar, then stop. */
  complete(): void {
    if (this.bar) this.update({ line: 'done', value: 1, total: 1 });
    this.stop();
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}

/**
 * Polls `progress` every `intervalMs` and shows each reading until `result` settles, then returns (or throws) what it
 * settled with. A reading that fails (the workflow between tasks, no worker to answer) or is slow never delays the
 * result.
 */
export async function watchProgress<T>(progress: () => Promise<ProgressView | undefined>, result: Promise<T>, reporter: ProgressReporter, intervalMs = 1000): Promise<T> {
  let done = false;
  const finished = result.finally(() => {
    done = true;
  });
  const settled = finished.then(
    () => undefined,
    () => undefined,
  );
  while (!done) {
    await Promise.race([settled, new Promise((r) => setTimeout(r, intervalMs))]);
    if (done) break;
    const view = await Promise.race([progress().catch(() => undefined), settled]);
    if (view && !done) reporter.update(view);
  }
  try {
    const value = await finished;
    reporter.complete();
    return value;
  } finally {
    reporter.stop();
  }
}

// ---- following a run ----

/** What --json prints for a run command. */
export interface RunOutcome {
  workflowId: string;
  runId: string;
  workflowType: string;
  /** False: a run with this workflow id was already running, and this is it (the input given was not used). */
  started?: boolean;
  taskQueue?: string;
  url: string;
  status: 'RUNNING' | 'COMPLETED' | FailureSummary['status'];
  result?: unknown;
  failure?: FailureSummary;
  noWorker?: Array<WorkerNeed & { command: string }>;
  interrupted?: true;
}

export interface FollowOptions<R> {
  client: TwinflowClient;
  workflowType: string;
  handle: { workflowId: string; runId?: string; started?: boolean; taskQueue?: string; result(): Promise<R> };
  /** A progress reading of the run (undefined: none to show). */
  progress?: () => Promise<ProgressView | undefined>;
  /** The human form of the result (stdout). */
  format: (result: R) => string | Promise<string>;
  /** The result's JSON form (default the result itself). */
  json?: (result: R) => unknown;
  flags: { json?: boolean; wait?: boolean; waitForWorker?: boolean };
  /** The queues the run needs polled; none: no check (e.g. the workers run in this process). */
  needs: WorkerNeed[];
  /** No worker: `fail` exits with code 4 unless --wait-for-worker (a start), `warn` says so and waits (following an existing run). */
  noWorker?: 'fail' | 'warn';
  /** Where the "started ..." line and progress lines go in text mode (stdout by default). */
  infoStream?: NodeJS.WritableStream;
  /** Print nothing about the start (following an existing run). */
  quietStart?: boolean;
  intervalMs?: number;
  /** Ctrl-C exits with 130 leaving the run going (default); false: leave SIGINT to someone else (in-process workers). */
  exitOnInterrupt?: boolean;
}

/** Follows a started (or found) run to its end, as described in the module comment. Returns the exit code. */
export async function followRun<R>(o: FollowOptions<R>): Promise<number> {
  const { client, handle, flags } = o;
  const json = flags.json === true;
  const info = json ? process.stderr : (o.infoStream ?? process.stdout);
  const runId = handle.runId ?? '';
  const url = client.uiUrl(handle.workflowId, handle.runId);
  const outcome: RunOutcome = {
    workflowId: handle.workflowId,
    runId,
    workflowType: o.workflowType,
    ...(handle.started !== undefined && { started: handle.started }),
    ...(handle.taskQueue && { taskQueue: handle.taskQueue }),
    url,
    status: 'RUNNING',
  };
  const say = (line: string) => info.write(`${line}\n`);
  if (!o.quietStart) {
    if (handle.started === false) {
      say(
        `${o.workflowType} ${handle.workflowId} is already running (run ${runId}): ${flags.wait === false ? 'not started again' : 'following it instead of starting another'}; the input given now was not used: ${url}`,
      );
    } else {
      say(`started ${o.workflowType} ${handle.workflowId}: ${url}`);
    }
  }

  const missing = o.needs.length > 0 ? await client.missingWorkers(o.needs) : [];
  if (missing.length > 0) {
    outcome.noWorker = missing.map((m) => ({ ...m, command: workerCommand(m, client.config) }));
    const mode = o.noWorker ?? 'fail';
    console.error(`twinflow: ${noWorkerMessage(missing, handle.workflowId, client.config)}`);
    if (mode === 'fail' && !flags.waitForWorker) {
      if (json) printJson(outcome);
      return EXIT.NO_WORKER;
    }
    if (flags.wait !== false) console.error('twinflow: waiting for a worker (Ctrl-C stops waiting; the run stays)');
  }
  if (flags.wait === false) {
    if (json) printJson(outcome);
    return EXIT.OK;
  }

  const reporter = new ProgressReporter({ mode: progressMode(json), lines: info });
  const onInterrupt = () => {
    reporter.stop();
    console.error(`\ntwinflow: interrupted; the run ${handle.workflowId} goes on (\`twinflow runs show ${handle.workflowId}\`, \`twinflow runs cancel ${handle.workflowId}\`)`);
    if (json) printJson({ ...outcome, interrupted: true });
    process.exit(EXIT.INTERRUPTED);
  };
  if (o.exitOnInterrupt !== false) process.once('SIGINT', onInterrupt);
  const waiting: ProgressView | undefined = missing.length > 0 ? { line: `waiting for a worker on task queue "${missing[0]!.taskQueue}" (${workerCommand(missing[0]!, client.config)})` } : undefined;
  let answered = false;
  const progress = async () => {
    const view = o.progress ? await o.progress() : undefined;
    if (view) answered = true;
    return view ?? (answered ? undefined : waiting);
  };
  if (waiting) reporter.update(waiting);
  try {
    const result = await watchProgress(progress, handle.result(), reporter, o.intervalMs);
    outcome.status = 'COMPLETED';
    if (json) printJson({ ...outcome, result: o.json ? await o.json(result) : result });
    else process.stdout.write(`${await o.format(result)}\n`);
    return EXIT.OK;
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const failure = describeFailure(err);
    outcome.status = failure.status;
    outcome.failure = failure;
    console.error(`twinflow: ${failureSentence(o.workflowType, handle.workflowId, failure)}`);
    if (json) printJson(outcome);
    return EXIT.FAILED;
  } finally {
    reporter.stop();
    process.off('SIGINT', onInterrupt);
  }
}

/** "ingest notes-1 failed: InvalidInput: ... (in activity crawlSource)", "... was cancelled", "... timed out (...)". */
export function failureSentence(workflowType: string, workflowId: string, f: FailureSummary): string {
  const who = `${workflowType} ${workflowId}`;
  switch (f.status) {
    case 'CANCELLED':
      return `${who} was cancelled${f.type ? `: ${f.line}` : ''}`;
    case 'TERMINATED':
      return `${who} was ${f.line}`;
    case 'TIMED_OUT':
      return `${who} ${f.line}`;
    default:
      return `${who} failed: ${f.line}`;
  }
}
