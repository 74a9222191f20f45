/**
 * The other pipelines on the same cluster (after rehearsal.test.ts): a sync of a notes folder and a change synced
 * again (exact insert/update/delete counts, the shared store on S3 holding exactly the notes), a schedule that fires
 * on the cluster's Temporal server and starts a sync by itself, and a training run (the tiny CPU config,
 * examples/reviews/train-tiny-cpu.json) through the CLI, trained by the cluster's GPU worker process.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applySyncSchedule, syncScheduleStatus } from '../../client';
import { PROJECT_ROOT } from '../../lib/config';
import type { SyncInput, SyncResult } from '../../lib/schemas/sync';
import { storageOptionsFor } from '../../lib/vectorstore';
import { LanceDBStore } from '../../lib/vectorstore/lancedb';
import { reviewsTinyModelDir } from '../integration/train/tiny-model';
import { CLUSTER_DIR, clusterConfig, clusterProcessEnv } from './cluster-env';
import { REHEARSAL_ENV_FILE } from './global-setup';

const extra = JSON.parse(fs.readFileSync(REHEARSAL_ENV_FILE, 'utf8')) as Record<string, string>;
const config = clusterConfig(extra);
const REPORT = path.join(CLUSTER_DIR, 'pipelines-report.json');
const report: Record<string, unknown> = {};
let connection: Connection;
let client: Client;

beforeAll(async () => {
  connection = await Connection.connect({ address: config.temporal.address });
  client = new Client({ connection, namespace: config.temporal.namespace });
});
afterAll(async () => {
  fs.writeFileSync(REPORT, `${JSON.stringify({ at: new Date().toISOString(), ...report }, null, 2)}\n`);
  await connection?.close();
});

function writeNote(dir: string, i: number, revision = 0): void {
  fs.writeFileSync(path.join(dir, `note-${i}.md`), `# Note ${i}\n\nNote ${i} of the cluster rehearsal${revision ? `, revision ${revision}` : ''}: it records the harbour log for day ${i} and the weather that came with it.\n`);
}

async function points(collection: string): Promise<number> {
  const store = new LanceDBStore({ uri: config.vectorStore.lancedbUri, storageOptions: storageOptionsFor(config.s3) });
  try {
    return await store.count(collection);
  } finally {
    await store.close();
  }
}

describe('pipelines on the cluster', () => {
  const stamp = Date.now().toString(36);
  // Folder sources are read from under <home>/data (TWINFLOW_ALLOW_PATHS' default).
  const dir = path.join(config.home, 'data', 'cluster-rehearsal', `notes-${stamp}`);
  const input: SyncInput = { collection: `cluster_sync_${stamp}`, sources: [{ type: 'folder', id: 'notes', path: dir }], cleaning: { minChars: 50 }, partSize: 10, concurrency: 4 };

  it('a sync, then a change synced again: exact counts in the shared store', async () => {
    fs.mkdirSync(dir, { recursive: true });
    for (let i = 0; i < 40; i++) writeNote(dir, i);
    const first = (await client.workflow.execute('sync', { taskQueue: config.temporal.taskQueue, workflowId: `cluster-sync-1-${stamp}`, args: [input] })) as SyncResult;
    expect(first.documents).toMatchObject({ inserted: 40, updated: 0, deleted: 0 });
    expect(await points(input.collection!)).toBe(40);
    writeNote(dir, 3, 1);
    fs.rmSync(path.join(dir, 'note-7.md'));
    writeNote(dir, 40);
    const second = (await client.workflow.execute('sync', { taskQueue: config.temporal.taskQueue, workflowId: `cluster-sync-2-${stamp}`, args: [input] })) as SyncResult;
    expect(second.documents).toMatchObject({ inserted: 1, updated: 1, deleted: 1, unchanged: 38 });
    expect(await points(input.collection!)).toBe(40);
    report.sync = { first: first.documents, second: second.documents };
  });

  it('a schedule fires on the cluster and its sync completes', async () => {
    const id = `cluster-schedule-${stamp}`;
    await applySyncSchedule(client, { id, cron: '* * * * *', sync: input }, { taskQueue: config.temporal.taskQueue });
    try {
      const deadline = Date.now() + 150_000;
      let fired: Awaited<ReturnType<typeof syncScheduleStatus>>['recent'][number] | undefined;
      while (!fired && Date.now() < deadline) {
        await sleep(2_000);
        fired = (await syncScheduleStatus(client, id, { recent: 5 })).recent[0];
      }
      expect(fired, 'the schedule started a run within 150 s').toBeDefined();
      const result = (await client.workflow.getHandle(fired!.workflowId).result()) as SyncResult;
      expect(result.documents).toMatchObject({ inserted: 0, updated: 0, deleted: 0, unchanged: 40 });
      report.schedule = { id, fired: fired!.workflowId, documents: result.documents };
    } finally {
      await client.schedule.getHandle(id).delete();
    }
  });

  it('a training run (tiny CPU config) through the CLI, trained by the cluster\'s GPU worker', async () => {
    reviewsTinyModelDir(); // examples/reviews/train-tiny-cpu.json points at .twinflow/test-models/tiny-llama-reviews
    const started = Date.now();
    const { stdout } = await promisify(execFile)(path.join(PROJECT_ROOT, 'bin', 'twinflow'), ['train', '-c', 'examples/reviews/train-tiny-cpu.json', '--json'], {
      cwd: PROJECT_ROOT,
      env: clusterProcessEnv(extra),
      maxBuffer: 16 * 1024 * 1024,
    });
    const result = JSON.parse(stdout.slice(stdout.indexOf('{'))) as Record<string, unknown>;
    report.train = { wallS: (Date.now() - started) / 1000, keys: Object.keys(result) };
    expect(JSON.stringify(result)).toMatch(/checkpoint|adapter|model/i);
  });
});
