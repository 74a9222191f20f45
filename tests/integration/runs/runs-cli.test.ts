/**
 * `twinflow ingest` and `twinflow runs ...` as a user runs them (bin/twinflow in a child process, configured only by
 * the test stack's environment), against the real test stack: a start with no worker polling the task queue (found
 * in seconds, the worker to start named, the run kept, exit 4), the same workflow id started again (the running run
 * is returned, not a second one), --wait-for-worker (the command waits and finishes once a worker comes), runs list
 * filters, runs result of a run that a real worker completes and of one that fails (its cause in one line, exit 1),
 * and cancel/terminate.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../../activities';
import { createDeps } from '../../../activities/deps';
import { PROJECT_ROOT } from '../../../lib/config';
import { TEST_ENV, testConfig } from '../../harness/stack';
import { withWorker } from '../../harness/worker';

const BIN = path.join(PROJECT_ROOT, 'bin', 'twinflow');
const tag = randomUUID().slice(0, 8);
const queue = `runs-cli-${tag}`;
const config = testConfig({ LANCEDB_URI: path.join(os.tmpdir(), `twinflow-runs-cli-${tag}-lancedb`) });
const UI = `http://127.0.0.1:${config.stack.temporalUiPort}/namespaces/default/workflows`;

let dir: string;
let folder: string;
let connection: Connection;
let client: Client;
const cleanup: string[] = [];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** The CLI's environment: the test stack's and this file's task queue, nothing from the developer's shell. */
function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TWINFLOW_|TEMPORAL_|S3_|LANCEDB_)/.test(k)));
  return { ...base, ...TEST_ENV, TWINFLOW_TASK_QUEUE: queue, ...extra };
}

function twinflow(args: string[], extra: Record<string, string> = {}): Promise<Run> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(BIN, args, { cwd: PROJECT_ROOT, env: cliEnv(extra), timeout: 150_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr, ms: performance.now() - started });
    });
  });
}

function spawnTwinflow(args: string[]): { child: ChildProcess; output: () => { stdout: string; stderr: string }; exited: Promise<number | null> } {
  const child = spawn(BIN, args, { cwd: PROJECT_ROOT, env: cliEnv() });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, output: () => ({ stdout, stderr }), exited };
}

async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const noWorkerLine = (id: string) =>
  `twinflow: no worker is polling the CPU task queue "${queue}" (no workflow poller in the last 90 s): start one with \`bin/twinflow worker cpu\`. The run ${id} is kept and proceeds once a worker polls (\`twinflow runs show ${id}\`)`;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-runs-cli-'));
  folder = path.join(dir, 'notes');
  fs.mkdirSync(folder);
  for (const [name, topic] of [
    ['capybara.md', 'The capybara cooperative publishes its harvest ledger every autumn, after the second rain.'],
    ['quokka.md', 'The quokka scheduler assigns durable timers to workers by consistent hashing of their keys.'],
  ]) {
    fs.writeFileSync(path.join(folder, name!), `# ${name}\n\n${`${topic} `.repeat(12)}\n`);
  }
  connection = await Connection.connect({ address: config.temporal.address });
  client = new Client({ connection, namespace: config.temporal.namespace });
});

afterAll(async () => {
  for (const id of cleanup) await client.workflow.getHandle(id).terminate('test cleanup').catch(() => undefined);
  await connection?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(config.vectorStore.lancedbUri, { recursive: true, force: true });
});

describe('twinflow CLI runs', () => {
  it('no worker: says which worker to start within seconds, keeps the run; the same id again returns it; it completes once a worker comes', async () => {
    const collection = `runs_${tag}`;
    const id = `runs-cli-nw-${tag}`;
    cleanup.push(id);

    const first = await twinflow(['ingest', '--collection', collection, '--folder', folder, '--workflow-id', id]);
    expect(first.code, first.stderr).toBe(4);
    // Node and tsx start in a few seconds on a busy machine; the check itself waits TWINFLOW_WORKER_CHECK_SECONDS (3).
    expect(first.ms).toBeLessThan(30_000);
    expect(first.stdout).toMatch(new RegExp(`^started ingest ${id}: ${UI}/${id}/[0-9a-f-]+/history\\n$`));
    expect(first.stderr.trim()).toBe(noWorkerLine(id));
    const described = await client.workflow.getHandle(id).describe();
    expect(described.status.name).toBe('RUNNING');
    expect(described.taskQueue).toBe(queue);

    // Found by its collection and status before any worker has touched it (the attributes are set at start).
    const listed = await twinflow(['runs', 'list', '--collection', collection, '--status', 'running', '--since', '10m', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const list = JSON.parse(listed.stdout) as { query: string; runs: Array<{ workflowId: string; pipeline: string; collection: string; status: string; url: string }> };
    expect(list.runs).toEqual([expect.objectContaining({ workflowId: id, pipeline: 'ingest', collection, status: 'RUNNING', url: `${UI}/${id}/${described.runId}/history` })]);
    expect(list.query).toContain(`TwinflowCollection = '${collection}'`);

    const shown = await twinflow(['runs', 'show', id]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`worker       none polls "${queue}" (workflow tasks): start one with \`bin/twinflow worker cpu\``);

    // The same logical run again: the running one is returned, no second run, the input not used.
    const again = await twinflow(['ingest', '--collection', collection, '--folder', folder, '--workflow-id', id, '--no-wait', '--wait-for-worker', '--json']);
    expect(again.code, again.stderr).toBe(0);
    const outcome = JSON.parse(again.stdout) as { workflowId: string; runId: string; started: boolean; status: string; noWorker: Array<{ command: string }> };
    expect(outcome).toMatchObject({ workflowId: id, runId: described.runId, started: false, status: 'RUNNING' });
    expect(outcome.noWorker).toEqual([{ taskQueue: queue, kind: 'workflow', worker: 'cpu', command: 'bin/twinflow worker cpu' }]);
    expect(again.stderr).toContain(`ingest ${id} is already running (run ${described.runId}): not started again; the input given now was not used`);
    expect((await client.workflow.count(`WorkflowId = '${id}'`)).count).toBe(1);

    // --wait-for-worker: this one waits for a worker instead of exiting.
    const waiting = spawnTwinflow(['ingest', '--collection', `${collection}_b`, '--folder', folder, '--wait-for-worker']);
    await until('the waiting ingest to say there is no worker', () => waiting.output().stderr.includes('twinflow: waiting for a worker'));
    const waitingId = /^started ingest (\S+):/.exec(waiting.output().stdout)![1]!;
    cleanup.push(waitingId);
    expect(waiting.child.exitCode).toBeNull();

    await withWorker(
      config,
      createActivities(createDeps(config)),
      async () => {
        expect(await waiting.exited).toBe(0);
        const w = waiting.output();
        expect(w.stderr).toContain(noWorkerLine(waitingId));
        expect(w.stdout).toMatch(new RegExp(`collection   ${collection}_b\\ndocuments    2 fetched, 2 cleaned, 2 loaded`));

        const result = await twinflow(['runs', 'result', id, '--json']);
        expect(result.code, result.stderr).toBe(0);
        const r = JSON.parse(result.stdout) as { status: string; runId: string; result: { collection: string; documents: { loaded: number } } };
        expect(r).toMatchObject({ status: 'COMPLETED', runId: described.runId, result: { collection, documents: { loaded: 2 } } });
        const text = await twinflow(['runs', 'result', id]);
        expect(text.code).toBe(0);
        expect(text.stdout).toMatch(/^collection {3}runs_\S+\ndocuments {4}2 fetched, 2 cleaned, 2 loaded/);
      },
      { taskQueue: queue },
    );
  }, 300_000);

  it('a failed run: runs result prints its cause in one line and exits 1; show and list find it', async () => {
    const id = `runs-cli-bad-${tag}`;
    await withWorker(
      config,
      createActivities(createDeps(config)),
      async ({ client: c }) => {
        // Not through the client's validation: the workflow itself refuses the input.
        const handle = await c.workflow.start('ingest', { taskQueue: queue, workflowId: id, args: [{ collection: 'Not A Name', sources: [] }] });
        await handle.result().catch(() => undefined);
      },
      { taskQueue: queue },
    );
    const result = await twinflow(['runs', 'result', id]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^twinflow: ingest ${id} failed: InvalidInput: invalid ingest input: collection: expected a collection name`))]);

    const json = await twinflow(['runs', 'result', id, '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ workflowId: id, status: 'FAILED', failure: { status: 'FAILED', type: 'InvalidInput' } });

    const shown = await twinflow(['runs', 'show', id]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/\nstatus {7}failed\n/);
    expect(shown.stdout).toMatch(/\nfailure {6}InvalidInput: invalid ingest input: collection: /);

    const listed = await twinflow(['runs', 'list', '--pipeline', 'ingest', '--status', 'failed', '--since', '15m', '--limit', '100', '--json']);
    expect((JSON.parse(listed.stdout) as { runs: Array<{ workflowId: string }> }).runs.map((r) => r.workflowId)).toContain(id);
  }, 300_000);

  it('cancel: with no worker says so (exit 4 with --wait), --terminate ends it, a closed run has nothing to cancel', async () => {
    const id = `runs-cli-cancel-${tag}`;
    cleanup.push(id);
    // A queue of its own: a worker that stopped less than 90 s ago still counts as polling (POLLER_FRESH_MS).
    const own = { TWINFLOW_TASK_QUEUE: `${queue}-cancel` };
    const started = await twinflow(['ingest', '--collection', `runs_${tag}_c`, '--folder', folder, '--workflow-id', id, '--no-wait', '--wait-for-worker'], own);
    expect(started.code, started.stderr).toBe(0);

    // From another environment (the default queue): the hint names the run's queue.
    const cancel = await twinflow(['runs', 'cancel', id, '--wait']);
    expect(cancel.code).toBe(4);
    expect(cancel.stdout).toBe(`cancellation requested for ingest ${id}\n`);
    expect(cancel.stderr).toContain(
      `twinflow: no worker polls "${queue}-cancel": the run handles the cancellation when one does (\`TWINFLOW_TASK_QUEUE=${queue}-cancel bin/twinflow worker cpu\`), or end it now with --terminate`,
    );

    const terminate = await twinflow(['runs', 'cancel', id, '--terminate', '--reason', 'no longer needed', '--json']);
    expect(terminate.code, terminate.stderr).toBe(0);
    expect(JSON.parse(terminate.stdout)).toMatchObject({ workflowId: id, action: 'terminate', status: 'TERMINATED' });

    const result = await twinflow(['runs', 'result', id]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(`twinflow: ingest ${id} was terminated: no longer needed`);

    const again = await twinflow(['runs', 'cancel', id]);
    expect(again.code).toBe(0);
    expect(again.stderr.trim()).toBe(`twinflow: ingest ${id} is not running (terminated): nothing to cancel`);

    const missing = await twinflow(['runs', 'show', `no-such-run-${tag}`]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe(`twinflow: no run with workflow id "no-such-run-${tag}" (\`twinflow runs list\` lists them)`);
  }, 300_000);
});
