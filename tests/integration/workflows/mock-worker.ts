/**
 * A worker for fast workflow tests: the real workflow bundle on the shared test stack's dev server, with activities
 * that are plain functions (temporalio/samples-typescript's mocked-activity tests, minus the time-skipping server,
 * which cannot be had here). One worker per test file; each test sets the activities it needs with `use`.
 *
 * Every call is recorded with its input and attempt number, so a test can assert what the workflow decided to run.
 */
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { dataConverterOptions } from '../../../lib/codec';
import { createWorker } from '../../../workers/worker';
import { testConfig, WORKFLOW_BUNDLE_PATH } from '../../harness/stack';

export type MockActivity = (input: never) => unknown;
export type MockActivities = Record<string, MockActivity>;

export interface Call {
  activity: string;
  input: Record<string, unknown>;
  attempt: number;
}

export interface MockWorker {
  client: Client;
  taskQueue: string;
  /** Replaces the activity implementations (those not given throw, naming themselves) and clears the calls. */
  use(activities: MockActivities): void;
  calls: Call[];
  /** The calls of one activity type, in the order they started. */
  callsOf(activity: string): Call[];
  stop(): Promise<void>;
}

/** Starts a worker whose activity types are `names`; their implementations come from the latest `use`. */
export async function startMockWorker(names: readonly string[]): Promise<MockWorker> {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  } catch {
    /* installed already by another helper in this process */
  }
  const config = testConfig();
  const taskQueue = `wf-mock-${randomUUID()}`;
  let current: MockActivities = {};
  const calls: Call[] = [];
  const activities = Object.fromEntries(
    names.map((name) => [
      name,
      async (input: Record<string, unknown>) => {
        calls.push({ activity: name, input, attempt: Context.current().info.attempt });
        const impl = current[name];
        if (!impl) throw new Error(`mock activity ${name} was not given to this test`);
        return impl(input as never);
      },
    ]),
  );
  const nativeConnection = await NativeConnection.connect({ address: config.temporal.address });
  const worker: Worker = await createWorker({
    config,
    connection: nativeConnection,
    taskQueue,
    activities,
    maxConcurrentActivities: 8,
    withWorkflows: true,
    workflowBundle: { codePath: WORKFLOW_BUNDLE_PATH },
    shutdownGraceTime: '1 second',
  });
  const running = worker.run();
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace, ...dataConverterOptions(config) });
  return {
    client,
    taskQueue,
    calls,
    use(next) {
      current = next;
      calls.length = 0;
    },
    callsOf: (activity) => calls.filter((c) => c.activity === activity),
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
      await nativeConnection.close();
    },
  };
}

/** A promise with its resolve function outside: lets a test hold an activity until it has looked at the run. */
export function gate<T = void>(): { promise: Promise<T>; open: (value: T) => void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** Polls `read` until `done` holds (a query while the run is in a given phase), at most `timeoutMs`; errors are retried. */
export async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let value: T | undefined;
    let error: unknown;
    try {
      value = await read();
      if (done(value)) return value;
    } catch (err) {
      // A query sent before the run's first workflow task registered its handler is refused: ask again.
      error = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting; last value: ${JSON.stringify(value)}${error ? `, last error: ${String(error)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The ApplicationFailure at the root of a failed run's result (the activity's or the workflow's own error). */
export async function failureOf(result: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await result.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof WorkflowFailedError)) throw new Error(`expected the run to fail, got ${err === undefined ? 'a result' : String(err)}`);
  let cause: unknown = err.cause;
  while (cause instanceof Error && !(cause instanceof ApplicationFailure)) cause = cause.cause;
  if (!(cause instanceof ApplicationFailure)) throw new Error(`no ApplicationFailure in ${String(err)}`);
  return cause;
}
