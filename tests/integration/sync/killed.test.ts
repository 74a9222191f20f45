/**
 * A sync whose worker process is killed in the middle of its load: the recorded state did not move, so the next sync
 * redoes exactly that work (same counts), and the store ends up equal to the source with no duplicate or orphan point.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../../activities';
import { createDeps, type Deps } from '../../../activities/deps';
import { PROJECT_ROOT } from '../../../lib/config';
import type { SyncInput, SyncResult } from '../../../lib/schemas/sync';
import { testConfig } from '../../harness/stack';
import { withWorker } from '../../harness/worker';
import { points, TOPICS, uniqueCollection, writeShortNote } from './helpers';

const lancedb = path.join(os.tmpdir(), `twinflow-sync-killed-${process.pid}-lancedb`);
const config = testConfig({ LANCEDB_URI: lancedb });
const collection = uniqueCollection('killed');
let deps: Deps;
let dir: string;
let input: SyncInput;
let child: ChildProcess | undefined;

function startWorkerProcess(taskQueue: string): Promise<ChildProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'tests/integration/sync/support/worker-process.ts')], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, SYNC_TEST_TASK_QUEUE: taskQueue, SYNC_TEST_LANCEDB: lancedb },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    proc.stdout!.on('data', (d) => String(d).includes('ready') && resolve(proc));
    proc.once('exit', (code) => reject(new Error(`worker process exited (${code}) before it was ready: ${stderr.slice(-2000)}`)));
  });
}

/** Names of the activities completed so far in a workflow's history. */
async function completedActivities(client: Client, workflowId: string): Promise<string[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = new Map<string, string>();
  const done: string[] = [];
  for (const e of history.events ?? []) {
    if (e.activityTaskScheduledEventAttributes) scheduled.set(String(e.eventId), e.activityTaskScheduledEventAttributes.activityType!.name!);
    if (e.activityTaskCompletedEventAttributes) done.push(scheduled.get(String(e.activityTaskCompletedEventAttributes.scheduledEventId)) ?? '?');
  }
  return done;
}

beforeAll(() => {
  fs.rmSync(lancedb, { recursive: true, force: true });
  deps = createDeps(config);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-killed-notes-'));
  for (const [topic, fact] of TOPICS.slice(0, 6)) writeShortNote(dir, topic, fact);
  // One document per delta part, one part at a time: the load is a sequence the test can cut in the middle.
  input = { collection, sources: [{ type: 'folder', id: 'notes', path: dir }], partSize: 1, concurrency: 1, cleaning: { minChars: 50 } };
});

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
  await deps.artifacts.deletePrefix(`state/${collection}/`);
  fs.rmSync(lancedb, { recursive: true, force: true });
});

describe('a sync killed mid-load', () => {
  it('is completed by the next sync with exact counts, nothing lost or duplicated', async () => {
    // The doomed sync will run on a worker in another process; it starts (and loads its code) meanwhile.
    const doomedQueue = `killed-${randomUUID()}`;
    const workerReady = startWorkerProcess(doomedQueue);
    workerReady.catch(() => undefined); // awaited below
    await withWorker(config, createActivities(deps), async ({ client, taskQueue }) =>
      client.workflow.execute('sync', { taskQueue, workflowId: `sync-killed-first-${taskQueue}`, args: [input] }),
    );

    const original = new Map((await points(deps, collection)).map((p) => [p.payload.docId, p.payload.contentHash]));

    // Edit two notes, delete one, add six: eight documents to load, one deletion.
    const notes = TOPICS.slice(0, 6);
    writeShortNote(dir, notes[0]![0], notes[0]![1], 1);
    writeShortNote(dir, notes[1]![0], notes[1]![1], 1);
    fs.rmSync(path.join(dir, `${notes[2]![0]}.md`));
    for (const [topic, fact] of TOPICS.slice(6, 12)) writeShortNote(dir, topic, fact);

    // The doomed sync is killed, with its worker process, once its first part is loaded.
    child = await workerReady;
    await withWorker(config, {}, async ({ client }) => {
      const handle = await client.workflow.start('sync', { taskQueue: doomedQueue, workflowId: `sync-killed-doomed-${doomedQueue}`, args: [input] });
      const deadline = Date.now() + 120_000;
      while (!(await completedActivities(client, handle.workflowId)).includes('loadPart')) {
        if (Date.now() > deadline) throw new Error('the doomed sync never loaded a part');
        await sleep(100);
      }
      child!.kill('SIGKILL');
      await new Promise((r) => child!.once('exit', r));
      const loaded = (await completedActivities(client, handle.workflowId)).filter((a) => a === 'loadPart').length;
      expect(loaded).toBeGreaterThanOrEqual(1);
      expect(loaded).toBeLessThan(8);
      // The run is abandoned (as if its machine never came back); its lock is left behind.
      await handle.terminate('worker killed by the test');
    });
    expect(await deps.artifacts.exists(`state/${collection}/lock.json`)).toBe(true);

    // Part of the change is in the store (new documents, or new versions of edited ones), not all of it.
    const changedDocs = (ps: Array<{ payload: { docId: string; contentHash: string } }>) =>
      new Set(ps.filter((p) => original.get(p.payload.docId) !== p.payload.contentHash).map((p) => p.payload.docId));
    const partial = changedDocs(await points(deps, collection));
    expect(partial.size).toBeGreaterThanOrEqual(1);
    expect(partial.size).toBeLessThan(8);

    const next = await withWorker(config, createActivities(deps), async ({ client, taskQueue }) =>
      client.workflow.execute('sync', { taskQueue, workflowId: `sync-killed-next-${taskQueue}`, args: [input] }),
    ) as SyncResult;
    // Exactly what the killed sync would have reported.
    expect(next.documents).toEqual({ inserted: 6, updated: 2, deleted: 1, unchanged: 3, retained: 0 });
    // What the killed run embedded before dying comes from the cache now.
    expect(next.chunks.reused).toBeGreaterThan(0);

    const final = await points(deps, collection);
    const byDoc = new Map<string, Set<string>>();
    for (const p of final) byDoc.set(p.payload.docId, (byDoc.get(p.payload.docId) ?? new Set()).add(p.payload.contentHash));
    expect(byDoc.size).toBe(11);
    for (const hashes of byDoc.values()) expect(hashes.size).toBe(1); // no chunk of an old version left
    expect(final.some((p) => p.payload.location.endsWith(`/${notes[2]![0]}.md`))).toBe(false);
    expect(new Set(final.map((p) => p.id)).size).toBe(final.length);
    expect(changedDocs(final).size).toBe(8);
    // The lock of the dead run was taken over and released.
    expect(await deps.artifacts.exists(`state/${collection}/lock.json`)).toBe(false);
  });
});
