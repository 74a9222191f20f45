/**
 * The parts of `twinflow runs` and of following a run that need no server: the one-line failure, the visibility
 * query a filter becomes, flag parsing, tables, the progress display (bar and lines), the exit code of each kind of
 * error, worker hints, and the configuration behind Web UI links.
 */
import { PassThrough } from 'node:stream';
import { ActivityFailure, ApplicationFailure, CancelledFailure, ChildWorkflowFailure, type Client, TerminatedFailure, TimeoutFailure, WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { RetryState } from '@temporalio/common';
import { CommanderError } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { describeFailure, describeProtoFailure, NoWorkerError, noWorkerMessage, runsQuery, TemporalUnreachableError, TwinflowClient, workerCommand } from '../../../client';
import { formatElapsed, formatRunDetails, formatRunsTable, parseLimit, parsePipelines, parseStatuses, parseTime, runFilterFromFlags } from '../../../cli/commands/runs';
import { EXIT, failureSentence, ProgressReporter, progressMode, reportFatal, watchProgress } from '../../../cli/follow';
import { ConfigError, loadConfig } from '../../../lib/config';
import { InputValidationError } from '../../../lib/schemas/validate';

const ALL = new Set(['TwinflowPipeline', 'TwinflowCollection', 'TwinflowStatus']);
const NONE = new Set<string>();

const app = (message: string, type: string) => new ApplicationFailure(message, type, true);
const inActivity = (activityType: string, cause: Error) => new ActivityFailure('Activity task failed', activityType, '1', RetryState.NON_RETRYABLE_FAILURE, 'worker@host', cause);
const workflowFailed = (cause: Error) => new WorkflowFailedError('Workflow execution failed', cause, RetryState.NON_RETRYABLE_FAILURE);

describe('describeFailure: one readable line', () => {
  it('walks workflow ← activity ← application failure to the innermost type and message, and names the activity', () => {
    const err = workflowFailed(inActivity('crawlSource', app('robots.txt of https://a.example forbids /', 'RobotsDenied')));
    const f = describeFailure(err);
    expect(f).toMatchObject({ status: 'FAILED', type: 'RobotsDenied', message: 'robots.txt of https://a.example forbids /', activity: 'crawlSource' });
    expect(f.line).toBe('RobotsDenied: robots.txt of https://a.example forbids / (in activity crawlSource)');
  });

  it('goes through child workflows and nested application failures to the innermost one', () => {
    const inner = app('part 3: not JSON at line 2', 'InvalidInput');
    const wrapped = new ApplicationFailure('embed failed', 'EmbedError', false, undefined, inner);
    const child = new ChildWorkflowFailure('default', { workflowId: 'ingest-notes-1--source-web', runId: 'r' }, 'ingestSource', RetryState.NON_RETRYABLE_FAILURE, inActivity('embedPart', wrapped));
    const f = describeFailure(workflowFailed(child));
    expect(f.line).toBe('InvalidInput: part 3: not JSON at line 2 (in activity embedPart, in child workflow ingest-notes-1--source-web)');
    expect(f.childWorkflowId).toBe('ingest-notes-1--source-web');
  });

  it('keeps a multi-line message on one line, and no object dump', () => {
    const f = describeFailure(workflowFailed(app('first line\n    at stack frame\n\tsecond', 'Boom')));
    expect(f.line).toBe('Boom: first line at stack frame second');
    expect(f.line).not.toMatch(/\n|\{/);
  });

  it('says terminated (with the reason), cancelled, and timed out', () => {
    const term = describeFailure(new WorkflowFailedError('scratch cleanup', new TerminatedFailure('scratch cleanup'), RetryState.NON_RETRYABLE_FAILURE));
    expect(term).toMatchObject({ status: 'TERMINATED', line: 'terminated: scratch cleanup' });
    expect(failureSentence('ingest', 'i-1', term)).toBe('ingest i-1 was terminated: scratch cleanup');
    const cancel = describeFailure(new WorkflowFailedError('Workflow canceled', new CancelledFailure('Workflow canceled'), RetryState.NON_RETRYABLE_FAILURE));
    expect(cancel.status).toBe('CANCELLED');
    expect(failureSentence('sync', 's-1', cancel)).toBe('sync s-1 was cancelled');
    const timeout = describeFailure(new WorkflowFailedError('Workflow timed out', new TimeoutFailure('Workflow timed out', undefined, 'START_TO_CLOSE'), RetryState.TIMEOUT));
    expect(timeout.status).toBe('TIMED_OUT');
    expect(failureSentence('train', 't-1', timeout)).toBe('train t-1 timed out (start_to_close)');
    // An activity that timed out fails the workflow: FAILED, and where.
    const activityTimeout = describeFailure(workflowFailed(inActivity('fineTune', new TimeoutFailure(undefined, undefined, 'HEARTBEAT'))));
    expect(activityTimeout).toMatchObject({ status: 'FAILED', line: 'timed out (heartbeat) (in activity fineTune)' });
  });

  it('describes a failure as the server sends it (a pending activity’s last failure)', () => {
    expect(describeProtoFailure({ message: 'activity failed', cause: { message: 'ECONNRESET reading part', applicationFailureInfo: { type: 'NetworkError' } } })).toBe('NetworkError: ECONNRESET reading part');
    expect(describeProtoFailure({ message: 'heartbeat timeout' })).toBe('heartbeat timeout');
    expect(describeProtoFailure(undefined)).toBeUndefined();
  });
});

describe('runsQuery: filters → a visibility query', () => {
  it('lists every pipeline by workflow type (runs without search attributes too), without child runs', () => {
    expect(runsQuery({}, ALL)).toBe("WorkflowType IN ('ingest', 'sync', 'train', 'evalRetrieval', 'evaluateModel', 'stackCheck', 'syncOnEvents') AND WorkflowType NOT IN ('ingestSource')");
    expect(runsQuery({ children: true }, ALL)).toMatch(/'syncOnEvents', 'ingestSource'\)$/);
  });

  it('matches a pipeline by its type or its TwinflowPipeline attribute, when the namespace has it', () => {
    expect(runsQuery({ pipelines: ['eval'] }, ALL)).toMatch(/^\(WorkflowType IN \('evalRetrieval'\) OR TwinflowPipeline IN \('eval'\)\)/);
    expect(runsQuery({ pipelines: ['eval'] }, NONE)).toMatch(/^WorkflowType IN \('evalRetrieval'\) AND/);
  });

  it('matches a collection by attribute, or by the default ids of runs that have none', () => {
    const q = runsQuery({ collection: 'notes' }, ALL);
    expect(q).toContain("(TwinflowCollection = 'notes' OR (TwinflowCollection IS NULL AND (WorkflowId STARTS_WITH 'ingest-notes-' OR WorkflowId STARTS_WITH 'sync-notes-')))");
    expect(runsQuery({ collection: 'notes' }, NONE)).toContain("AND (WorkflowId STARTS_WITH 'ingest-notes-' OR WorkflowId STARTS_WITH 'sync-notes-')");
  });

  it('adds status, attention and time range; refuses quotes and an attribute the namespace lacks', () => {
    const q = runsQuery({ statuses: ['FAILED', 'CANCELLED', 'TIMED_OUT'], attention: ['deletions_held'], since: new Date('2026-11-01T00:00:00Z'), until: new Date('2026-11-02T00:00:00Z'), query: "TaskQueue = 'x'" }, ALL);
    expect(q).toContain("ExecutionStatus IN ('Failed', 'Canceled', 'TimedOut')");
    expect(q).toContain("TwinflowStatus IN ('deletions_held')");
    expect(q).toContain("StartTime >= '2026-11-01T00:00:00.000Z' AND StartTime <= '2026-11-02T00:00:00.000Z'");
    expect(q).toMatch(/AND \(TaskQueue = 'x'\)$/);
    expect(() => runsQuery({ collection: "x' OR '1'='1" }, ALL)).toThrow(InputValidationError);
    expect(() => runsQuery({ attention: ['deletions_held'] }, NONE)).toThrow(/no TwinflowStatus search attribute/);
  });
});

describe('runs flags', () => {
  it('parses statuses (execution statuses and TwinflowStatus values) and refuses others, naming the valid ones', () => {
    expect(parseStatuses(['running', 'timed-out,Canceled'])).toEqual({ statuses: ['RUNNING', 'TIMED_OUT', 'CANCELLED'] });
    expect(parseStatuses(['deletions-held'])).toEqual({ attention: ['deletions_held'] });
    expect(parseStatuses(['awaiting-review'])).toEqual({ attention: ['awaiting_review'] });
    expect(() => parseStatuses(['runing'])).toThrow('--status: unknown status "runing" (expected running, completed, failed, cancelled, terminated, timed-out, continued-as-new, or deletions_held, awaiting_review)');
  });

  it('parses pipelines with aliases', () => {
    expect(parsePipelines(['ingest', 'evalRetrieval,stack-check'])).toEqual(['ingest', 'eval', 'stackCheck']);
    expect(() => parsePipelines(['ingset'])).toThrow(/--pipeline: unknown pipeline "ingset" \(expected ingest, sync, train, eval/);
  });

  it('parses times: durations back from now and ISO dates; refuses the rest', () => {
    const now = Date.parse('2026-11-10T12:00:00Z');
    expect(parseTime('2h', '--since', now).toISOString()).toBe('2026-11-10T10:00:00.000Z');
    expect(parseTime('7d', '--since', now).toISOString()).toBe('2026-11-03T12:00:00.000Z');
    expect(parseTime('2026-11-01', '--since', now).toISOString()).toBe('2026-11-01T00:00:00.000Z');
    expect(parseTime('2026-11-01T08:30:00+02:00', '--until', now).toISOString()).toBe('2026-11-01T06:30:00.000Z');
    expect(() => parseTime('yesterday', '--since', now)).toThrow(/--since: "yesterday" is neither a date/);
    expect(() => runFilterFromFlags({ pipeline: [], status: [], limit: '20', since: '1h', until: '2h' }, now)).toThrow(/--since 1h is after --until 2h/);
  });

  it('parses --limit 1-1000', () => {
    expect(parseLimit('50')).toBe(50);
    for (const bad of ['0', '1001', '-1', '2.5', 'ten']) expect(() => parseLimit(bad)).toThrow(/--limit: expected a whole number from 1 to 1000/);
  });

  it('builds the whole filter from flags', () => {
    const now = Date.parse('2026-11-10T12:00:00Z');
    expect(runFilterFromFlags({ pipeline: ['sync'], collection: 'notes', status: ['failed'], since: '1d', limit: '20' }, now)).toEqual({
      pipelines: ['sync'],
      collection: 'notes',
      statuses: ['FAILED'],
      since: new Date('2026-11-09T12:00:00Z'),
    });
  });
});

describe('formatting', () => {
  it('elapsed times', () => {
    expect(formatElapsed(850)).toBe('0.9s');
    expect(formatElapsed(62_000)).toBe('1m02s');
    expect(formatElapsed(11_040_000)).toBe('3h04m');
    expect(formatElapsed(183_600_000)).toBe('2d03h');
  });

  it('the runs table: aligned columns, running runs with their time so far', () => {
    const now = Date.parse('2026-11-10T12:00:00Z');
    const base = { runId: 'r', taskQueue: 'twinflow', url: 'u' };
    const table = formatRunsTable(
      [
        { ...base, workflowId: 'sync-notes-1', workflowType: 'sync', pipeline: 'sync', collection: 'notes', status: 'RUNNING', attention: 'deletions_held', startTime: '2026-11-10T11:58:00.000Z' },
        { ...base, workflowId: 'train-tiny-2', workflowType: 'train', pipeline: 'train', status: 'TIMED_OUT', startTime: '2026-11-10T09:00:00.000Z', closeTime: '2026-11-10T10:00:00.000Z', durationMs: 3_600_000 },
      ],
      now,
    );
    expect(table.split('\n')).toEqual([
      'STATUS                    PIPELINE  COLLECTION  WORKFLOW ID   STARTED               DURATION',
      'running [deletions_held]  sync      notes       sync-notes-1  2026-11-10T11:58:00Z  2m00s…',
      'timed-out                 train     -           train-tiny-2  2026-11-10T09:00:00Z  1h00m',
    ]);
    expect(formatRunsTable([])).toBe('no runs match');
  });

  it('one run: the failure as one line, pending activities with their last failure, the missing worker', () => {
    const text = formatRunDetails(
      {
        workflowId: 'ingest-notes-1',
        runId: 'r1',
        workflowType: 'ingest',
        pipeline: 'ingest',
        collection: 'notes',
        status: 'RUNNING',
        taskQueue: 'twinflow',
        startTime: '2026-11-10T11:00:00.000Z',
        historyLength: 12,
        pendingActivities: [{ activityType: 'crawlSource', state: 'scheduled', attempt: 4, lastFailure: 'NetworkError: ECONNREFUSED' }],
        url: 'http://ui/namespaces/default/workflows/ingest-notes-1/r1/history',
      },
      { noWorker: [{ taskQueue: 'twinflow', kind: 'workflow', worker: 'cpu', command: 'bin/twinflow worker cpu' }], progress: '[crawl] web: crawl 3 fetched/2 cleaned' },
      Date.parse('2026-11-10T11:10:00Z'),
    );
    expect(text).toContain('started      2026-11-10T11:00:00Z   running for 10m00s');
    expect(text).toContain('worker       none polls "twinflow" (workflow tasks): start one with `bin/twinflow worker cpu`');
    expect(text).toContain('activity     crawlSource: scheduled, attempt 4, last failure: NetworkError: ECONNREFUSED');
    expect(text).toContain('progress     [crawl] web: crawl 3 fetched/2 cleaned');
    const failed = formatRunDetails({
      workflowId: 'i',
      runId: 'r',
      workflowType: 'ingest',
      pipeline: 'ingest',
      status: 'FAILED',
      taskQueue: 'q',
      startTime: '2026-11-10T11:00:00.000Z',
      closeTime: '2026-11-10T11:00:02.000Z',
      durationMs: 2000,
      historyLength: 9,
      pendingActivities: [],
      failure: describeFailure(workflowFailed(app('bad', 'InvalidInput'))),
      url: 'u',
    });
    expect(failed).toContain('closed 2026-11-10T11:00:02Z after 2.0s');
    expect(failed).toContain('\nfailure      InvalidInput: bad\n');
  });
});

/** A writable that looks like a terminal to cli-progress, and keeps what was written. */
function fakeTerminal(): PassThrough & { isTTY: boolean; columns: number; text: () => string } {
  const stream = new PassThrough() as PassThrough & { isTTY: boolean; columns: number; text: () => string; cursorTo: unknown; clearLine: unknown; moveCursor: unknown };
  let written = '';
  stream.on('data', (d: Buffer) => (written += d.toString()));
  stream.isTTY = true;
  stream.columns = 160;
  stream.text = () => written;
  return stream;
}

describe('progress display', () => {
  it('draws a bar on a terminal, full when the run completes', async () => {
    const term = fakeTerminal();
    const lines = new PassThrough();
    const reporter = new ProgressReporter({ mode: 'bar', lines, barStream: term, fps: 1000 });
    const readings = [
      { line: '[crawl] web: crawl 3 fetched', value: 0, total: 0 },
      { line: '[load] parts 1/4 loaded', value: 3, total: 12 },
    ];
    let i = 0;
    let finish!: (v: string) => void;
    const result = new Promise<string>((r) => (finish = r));
    const watching = watchProgress(async () => readings[Math.min(i++, readings.length - 1)], result, reporter, 5);
    await new Promise((r) => setTimeout(r, 60));
    finish('ok');
    expect(await watching).toBe('ok');
    await new Promise((r) => setImmediate(r));
    const out = term.text();
    expect(out).toMatch(/\[[█░]{24}\] 0% \| \[crawl\] web: crawl 3 fetched/);
    expect(out).toMatch(/\] 25% \| \[load\] parts 1\/4 loaded/);
    expect(out).toMatch(/\[█{24}\] 100% \| done/);
    expect(lines.read()).toBeNull(); // nothing on the lines stream in bar mode
  });

  it('prints plain lines, each once, when not on a terminal', async () => {
    const lines = new PassThrough();
    let text = '';
    lines.on('data', (d: Buffer) => (text += d.toString()));
    const reporter = new ProgressReporter({ mode: 'lines', lines });
    for (const line of ['a', 'a', 'b', 'b', 'a']) reporter.update({ line, value: 1, total: 2 });
    reporter.complete();
    await new Promise((r) => setImmediate(r));
    expect(text).toBe('a\nb\na\n');
  });

  it('a reading that never answers does not hold back the result', async () => {
    const reporter = new ProgressReporter({ mode: 'lines', lines: new PassThrough() });
    const started = Date.now();
    const value = await watchProgress(() => new Promise<undefined>(() => undefined), new Promise((r) => setTimeout(() => r(7), 50)), reporter, 10);
    expect(value).toBe(7);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('chooses the bar only on a terminal without --json (TWINFLOW_PROGRESS overrides)', () => {
    expect(progressMode(false, { isTTY: true }, {})).toBe('bar');
    expect(progressMode(true, { isTTY: true }, {})).toBe('lines');
    expect(progressMode(false, { isTTY: false }, {})).toBe('lines');
    expect(progressMode(false, { isTTY: true }, { TERM: 'dumb' })).toBe('lines');
    expect(progressMode(false, { isTTY: false }, { TWINFLOW_PROGRESS: 'bar' })).toBe('bar');
  });
});

describe('exit codes (reportFatal)', () => {
  afterEach(() => vi.restoreAllMocks());

  function report(err: unknown, json = false) {
    const stderr: string[] = [];
    const stdout: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void stderr.push(a.map(String).join(' ')));
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (stdout.push(String(chunk)), true));
    const code = reportFatal(err, { expected: [InputValidationError, ConfigError], json });
    vi.restoreAllMocks();
    return { code, stderr, stdout: stdout.join('') };
  }

  it('maps each kind of error to its documented code, with one line on stderr', () => {
    expect(EXIT).toEqual({ OK: 0, FAILED: 1, USAGE: 2, UNREACHABLE: 3, NO_WORKER: 4, INTERRUPTED: 130 });
    expect(report(new InputValidationError('--limit: bad'))).toMatchObject({ code: 2, stderr: ['twinflow: --limit: bad'] });
    expect(report(new ConfigError('Invalid configuration: X'))).toMatchObject({ code: 2 });
    expect(report(new CommanderError(1, 'commander.unknownOption', "error: unknown option '--x'"))).toMatchObject({ code: 2, stderr: [] });
    expect(report(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'))).toMatchObject({ code: 0 });
    expect(report(new WorkflowNotFoundError('not found', 'nope', undefined))).toMatchObject({ code: 2, stderr: ['twinflow: no run with workflow id "nope" (`twinflow runs list` lists them)'] });
    expect(report(new TemporalUnreachableError('cannot reach Temporal at 127.0.0.1:1'))).toMatchObject({ code: 3, stderr: ['twinflow: cannot reach Temporal at 127.0.0.1:1'] });
    expect(report(Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: 14 }))).toMatchObject({ code: 3 });
    expect(report(new NoWorkerError([{ taskQueue: 'twinflow', kind: 'workflow', worker: 'cpu' }], 'ingest-1'))).toMatchObject({ code: 4 });
    const failed = report(workflowFailed(inActivity('loadPart', app('disk full', 'StoreError'))));
    expect(failed).toMatchObject({ code: 1, stderr: ['twinflow: the run failed: StoreError: disk full (in activity loadPart)'] });
  });

  it('with --json also prints one JSON document with the code and message', () => {
    const r = report(new InputValidationError('--status: unknown status "x"'), true);
    expect(JSON.parse(r.stdout)).toEqual({ error: { exitCode: 2, message: '--status: unknown status "x"' } });
  });
});

describe('workers and links', () => {
  it('names the worker to start, with the queue variable when the environment polls another queue', () => {
    const config = loadConfig({});
    expect(workerCommand({ taskQueue: 'twinflow', kind: 'workflow', worker: 'cpu' }, config)).toBe('bin/twinflow worker cpu');
    expect(workerCommand({ taskQueue: 'gpu-a6000', kind: 'activity', worker: 'gpu' }, config)).toBe('bin/twinflow worker gpu');
    expect(workerCommand({ taskQueue: 'gpu-h100', kind: 'activity', worker: 'gpu' }, config)).toBe('TWINFLOW_GPU_TASK_QUEUE=gpu-h100 bin/twinflow worker gpu');
    expect(noWorkerMessage([{ taskQueue: 'twinflow', kind: 'workflow', worker: 'cpu' }], 'ingest-notes-1', config)).toBe(
      'no worker is polling the CPU task queue "twinflow" (no workflow poller in the last 90 s): start one with `bin/twinflow worker cpu`. The run ingest-notes-1 is kept and proceeds once a worker polls (`twinflow runs show ingest-notes-1`)',
    );
  });

  it('says which queues a run needs: the CPU queue, and for train the GPU queue too', () => {
    const client = new TwinflowClient({} as Client, loadConfig({ TWINFLOW_GPU_TASK_QUEUE: 'gpu-h100' }));
    expect(client.workerNeeds('ingest')).toEqual([{ taskQueue: 'twinflow', kind: 'workflow', worker: 'cpu' }]);
    expect(client.workerNeeds('train', 'q')).toEqual([
      { taskQueue: 'q', kind: 'workflow', worker: 'cpu' },
      { taskQueue: 'gpu-h100', kind: 'activity', worker: 'gpu' },
    ]);
  });

  it('links to TEMPORAL_UI_URL (default the local stack’s UI), in the configured namespace', () => {
    const local = new TwinflowClient({} as Client, loadConfig({ TWINFLOW_TEMPORAL_UI_PORT: '18233' }));
    expect(local.uiUrl('ingest-notes-1', 'r1')).toBe('http://127.0.0.1:18233/namespaces/default/workflows/ingest-notes-1/r1/history');
    const cluster = new TwinflowClient({} as Client, loadConfig({ TEMPORAL_UI_URL: 'https://temporal.example.com/ui/', TEMPORAL_NAMESPACE: 'prod.a1b2c' }));
    expect(cluster.uiUrl('sync notes/1')).toBe('https://temporal.example.com/ui/namespaces/prod.a1b2c/workflows/sync%20notes%2F1');
    expect(cluster.uiListUrl("WorkflowType = 'sync'")).toBe("https://temporal.example.com/ui/namespaces/prod.a1b2c/workflows?query=WorkflowType%20%3D%20'sync'");
  });

  it('validates the new settings, naming the variable', () => {
    expect(loadConfig({}).temporal.workerCheckSeconds).toBe(3);
    expect(loadConfig({ TWINFLOW_WORKER_CHECK_SECONDS: '0' }).temporal.workerCheckSeconds).toBe(0);
    expect(() => loadConfig({ TWINFLOW_WORKER_CHECK_SECONDS: 'soon' })).toThrow('Invalid configuration: TWINFLOW_WORKER_CHECK_SECONDS: expected a number of seconds (0 or more), got "soon"');
    expect(() => loadConfig({ TEMPORAL_UI_URL: 'not a url' })).toThrow(/TEMPORAL_UI_URL: expected a URL/);
  });
});
