/** The nightly sync schedule on the real Temporal server: apply, describe, re-apply (no-op), pause, trigger, backfill. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../../activities';
import { createDeps, type Deps } from '../../../activities/deps';
import { applySyncSchedule, deleteSyncSchedule, syncScheduleStatus, triggerSyncSchedule, backfillSyncSchedule } from '../../../client/schedules';
import type { SyncResult, SyncScheduleConfig } from '../../../lib/schemas/sync';
import { testConfig } from '../../harness/stack';
import { withWorker } from '../../harness/worker';
import { TOPICS, uniqueCollection, writeShortNote } from './helpers';

const config = testConfig({ LANCEDB_URI: path.join(os.tmpdir(), `twinflow-sync-schedule-${process.pid}-lancedb`) });
const collection = uniqueCollection('sched');
const scheduleId = `test-${collection}`;
let deps: Deps;
let dir: string;
let schedule: SyncScheduleConfig;

beforeAll(() => {
  fs.rmSync(config.vectorStore.lancedbUri, { recursive: true, force: true });
  deps = createDeps(config);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-schedule-notes-'));
  for (const [topic, fact] of TOPICS.slice(0, 3)) writeShortNote(dir, topic, fact);
  schedule = {
    id: scheduleId,
    cron: '30 3 * * *',
    timeZone: 'Europe/Paris',
    catchupWindow: '2h',
    jitter: '1m',
    sync: { collection, sources: [{ type: 'folder', id: 'notes', path: dir }], cleaning: { minChars: 50 } },
  };
});

afterAll(async () => {
  await withWorker(config, {}, ({ client }) => deleteSyncSchedule(client, scheduleId)).catch(() => undefined);
  fs.rmSync(dir, { recursive: true, force: true });
  await deps.artifacts.deletePrefix(`state/${collection}/`);
  fs.rmSync(config.vectorStore.lancedbUri, { recursive: true, force: true });
});

/** Waits until the schedule has taken `n` actions and returns the workflow ids of the latest `n`. */
async function actionsTaken(client: Client, n: number): Promise<string[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const d = await client.schedule.getHandle(scheduleId).describe();
    if (d.info.recentActions.length >= n) return d.info.recentActions.slice(-n).map((a) => a.action.workflow.workflowId);
    if (Date.now() > deadline) throw new Error(`schedule took ${d.info.recentActions.length} actions, expected ${n}`);
    await sleep(200);
  }
}

describe('sync schedule', () => {
  it('applies the config, shows the spec, and treats re-applying it as a no-op', async () => {
    await withWorker(config, {}, async ({ client, taskQueue }) => {
      expect(await applySyncSchedule(client, schedule, { taskQueue })).toEqual({ id: scheduleId, outcome: 'created', executionTimeout: '20h42m' });
      const d = await client.schedule.getHandle(scheduleId).describe();
      expect(d.policies).toMatchObject({ overlap: 'SKIP', catchupWindow: 2 * 3_600_000 });
      expect(d.spec.timezone).toBe('Europe/Paris');
      expect(d.action).toMatchObject({ type: 'startWorkflow', workflowType: 'sync', taskQueue, workflowExecutionTimeout: 1242 * 60_000 }); // 20h42m: 90% of Paris's 23 h spring night
      // Every next run is at 03:30-03:31 in Paris (jitter 1m), whatever the UTC offset of the day.
      const paris = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit' });
      expect(d.info.nextActionTimes.length).toBeGreaterThan(0);
      for (const t of d.info.nextActionTimes) expect(paris.format(t)).toMatch(/^03:3[01]$/);

      const status = await syncScheduleStatus(client, scheduleId);
      expect(status).toMatchObject({ cron: '30 3 * * *', timeZone: 'Europe/Paris', jitter: '1m', catchupWindow: '2h', overlap: 'SKIP', paused: false, recent: [] });

      const updatedAt = d.info.lastUpdatedAt;
      expect((await applySyncSchedule(client, schedule, { taskQueue })).outcome).toBe('unchanged');
      expect((await client.schedule.getHandle(scheduleId).describe()).info.lastUpdatedAt).toEqual(updatedAt);

      expect((await applySyncSchedule(client, { ...schedule, cron: '0 4 * * *' }, { taskQueue })).outcome).toBe('updated');
      expect((await syncScheduleStatus(client, scheduleId)).cron).toBe('0 4 * * *');
      expect(await applySyncSchedule(client, { ...schedule, cron: '0 4 * * *', paused: true }, { taskQueue })).toMatchObject({ outcome: 'unchanged', paused: true });
      expect((await syncScheduleStatus(client, scheduleId)).paused).toBe(true);
      expect(await applySyncSchedule(client, { ...schedule, paused: false }, { taskQueue })).toMatchObject({ outcome: 'updated', paused: false });
    });
  });

  it('runs a sync when triggered, and reports it in the status', async () => {
    await withWorker(config, createActivities(deps), async ({ client, taskQueue }) => {
      await applySyncSchedule(client, schedule, { taskQueue });
      await triggerSyncSchedule(client, scheduleId);
      const [workflowId] = await actionsTaken(client, 1);
      const result = (await client.workflow.getHandle(workflowId!).result()) as SyncResult;
      expect(result.documents).toMatchObject({ inserted: 3, deleted: 0 });
      const status = await syncScheduleStatus(client, scheduleId);
      expect(status.recent).toHaveLength(1);
      expect(status.recent[0]).toMatchObject({ workflowId, status: 'COMPLETED', result: { documents: { inserted: 3 } } });
    });
  });

  it('backfills a past range one run after the other', async () => {
    await withWorker(config, createActivities(deps), async ({ client, taskQueue }) => {
      await applySyncSchedule(client, { ...schedule, timeZone: 'UTC' }, { taskQueue });
      // 03:30 UTC on two days: two runs, buffered so they do not overlap.
      await backfillSyncSchedule(client, scheduleId, new Date('2026-01-01T00:00:00Z'), new Date('2026-01-03T00:00:00Z'));
      const ids = await actionsTaken(client, 3);
      const runs = await Promise.all(ids.slice(1).map((id) => client.workflow.getHandle(id).result() as Promise<SyncResult>));
      for (const r of runs) expect(r.documents).toMatchObject({ inserted: 0, unchanged: 3 });
      const status = await syncScheduleStatus(client, scheduleId, { recent: 3 });
      expect(status.recent.map((r) => r.scheduledAt.toISOString().slice(0, 10)).slice(1)).toEqual(['2026-01-01', '2026-01-02']);
    });
  });
});
