/**
 * The sync workflow's decisions with mocked activities (seconds, no crawl, no model, no store): what it does with
 * deletions the guard held, a source that cannot be crawled, a push sync's scope, a non-retryable and a retryable
 * activity failure, and what its progress query says while it loads. The real-stack tests in tests/integration/sync
 * check the activities themselves.
 */
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SyncInput, SyncProgress, SyncResult } from '../../../lib/schemas/sync';
import { lockActivities, loadActivities, sourceActivities, SYNC_ACTIVITY_TYPES } from './fixtures';
import { failureOf, gate, type MockActivities, type MockWorker, startMockWorker, waitFor } from './mock-worker';

let w: MockWorker;
let runs = 0;

beforeAll(async () => {
  w = await startMockWorker(SYNC_ACTIVITY_TYPES);
});
afterAll(async () => {
  await w?.stop();
});

const input: SyncInput = {
  collection: 'mocked',
  sources: [
    { type: 'folder', id: 'notes', path: '/nowhere/notes' },
    { type: 'folder', id: 'wiki', path: '/nowhere/wiki' },
  ],
};

const totals = { inserted: 1, updated: 0, deleted: 0, unchanged: 2, retained: 0 };

/** A sync whose index exists and whose plan inserts one part of one document. */
function syncActivities(over: MockActivities = {}): MockActivities {
  return {
    ...lockActivities(),
    ...sourceActivities(),
    ...loadActivities(),
    resolveIndex: () => ({
      physical: 'mocked__0123456789',
      live: 'mocked__0123456789',
      identity: { hash: '0123456789abcdef', model: 'm', dimension: 4, chunking: {} },
      rebuild: false,
      previous: {},
      previousFrom: 'state',
      discardedPartial: false,
    }),
    planSync: (i: { sources: Array<{ sourceId: string; status: string }> }) => ({
      deltaParts: [{ uri: 's3://t/delta-0.jsonl', count: 1 }],
      deletionsUri: 's3://t/deletions.jsonl',
      deletions: 0,
      states: {},
      sources: i.sources.map((s) => ({ sourceId: s.sourceId, sourceType: 'folder', status: s.status === 'crawled' ? 'synced' : s.status, fetched: 3, cleaned: 3, ...totals })),
      totals,
      elapsedMs: 1,
    }),
    deleteDocuments: () => ({ points: 0, elapsedMs: 1 }),
    commitSyncState: () => ({ uri: 's3://t/state/current.json' }),
    ...over,
  };
}

function start(args: SyncInput = input) {
  runs += 1;
  return w.client.workflow.start('sync', { taskQueue: w.taskQueue, workflowId: `mock-sync-${runs}-${w.taskQueue}`, args: [args] });
}

async function run(args: SyncInput = input): Promise<SyncResult> {
  return (await start(args)).result() as Promise<SyncResult>;
}

function failure(args: SyncInput = input): Promise<ApplicationFailure> {
  return failureOf(run(args));
}

describe('sync with mocked activities', () => {
  it('reports deletions the guard held, deletes nothing and still commits the state', async () => {
    const held = { documents: 5, sources: ['notes (5 of 6)'], reason: 'would delete 83% of notes' };
    w.use(
      syncActivities({
        planSync: () => ({ deltaParts: [], deletionsUri: 's3://t/deletions.jsonl', deletions: 0, states: {}, sources: [], totals, deletionsHeld: held, elapsedMs: 1 }),
      }),
    );
    const handle = await start();
    const result = (await handle.result()) as SyncResult;
    expect(result.status).toBe('deletions_held');
    expect(result.deletionsHeld).toEqual(held);
    expect(w.callsOf('deleteDocuments')).toHaveLength(0);
    expect(w.callsOf('commitSyncState')).toHaveLength(1);
    expect((await handle.query<SyncProgress>('progress')).deletionsHeld).toEqual(held);
    // The plan is asked with the guard's defaults, and a pull sync removes sources no longer listed.
    expect(w.callsOf('planSync')[0]!.input).toMatchObject({ deletionGuard: { maxShare: 0.2, minDocuments: 3 }, allowMassDeletion: false, removeUnlisted: true });
  });

  it('deletes what the plan lists, once every part is loaded', async () => {
    w.use(syncActivities({ planSync: (i: never) => ({ ...(syncActivities().planSync!(i) as object), deletions: 2 }), deleteDocuments: () => ({ points: 4, elapsedMs: 1 }) }));
    const result = await run();
    expect(result.status).toBe('ok');
    expect(result.chunks.deleted).toBe(4);
    const order = w.calls.map((c) => c.activity);
    expect(order.indexOf('deleteDocuments')).toBeGreaterThan(order.lastIndexOf('loadPart'));
    expect(order.indexOf('commitSyncState')).toBeGreaterThan(order.indexOf('deleteDocuments'));
  });

  it('keeps the previous state of a source that cannot be crawled: the plan sees it failed, with the error', async () => {
    w.use(
      syncActivities({
        crawlSource: (i: { source: { id: string } }) => {
          if (i.source.id === 'wiki') throw ApplicationFailure.nonRetryable('wiki is down', 'CrawlFailed');
          return sourceActivities().crawlSource!(i as never);
        },
      }),
    );
    const result = await run();
    const planned = w.callsOf('planSync')[0]!.input.sources as Array<{ sourceId: string; status: string; error?: string }>;
    expect(planned.map((s) => [s.sourceId, s.status])).toEqual([
      ['notes', 'crawled'],
      ['wiki', 'failed'],
    ]);
    // What the workflow records is the whole cause chain, down to what the source said.
    expect(planned[1]!.error).toBe('Child Workflow execution failed: Activity task failed: wiki is down');
    expect(result.failedSources).toEqual(['wiki']);
    // The crawl failure is non-retryable at its throw site: one attempt.
    expect(w.callsOf('crawlSource').filter((c) => (c.input.source as { id: string }).id === 'wiki')).toHaveLength(1);
  });

  it('crawls only the sources a push sync names, and leaves the others untouched', async () => {
    w.use(syncActivities());
    await run({ ...input, only: [{ sourceId: 'wiki' }] });
    expect(w.callsOf('crawlSource').map((c) => (c.input.source as { id: string }).id)).toEqual(['wiki']);
    const plan = w.callsOf('planSync')[0]!.input;
    expect(plan.removeUnlisted).toBe(false);
    expect((plan.sources as Array<{ sourceId: string; status: string }>).map((s) => [s.sourceId, s.status])).toEqual([
      ['notes', 'untouched'],
      ['wiki', 'crawled'],
    ]);
  });

  it('fails at once on an error type in NON_RETRYABLE, even one thrown as retryable, and releases the lock', async () => {
    w.use(
      syncActivities({
        commitSyncState: () => {
          throw ApplicationFailure.retryable('another run committed first', 'LockLost');
        },
      }),
    );
    const started = Date.now();
    const cause = await failure();
    expect(cause.type).toBe('LockLost');
    expect(w.callsOf('commitSyncState').map((c) => c.attempt)).toEqual([1]);
    expect(w.callsOf('releaseSyncLock')).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('retries a retryable activity failure and completes', async () => {
    w.use(
      syncActivities({
        embedPart: (i: never) => {
          if (w.callsOf('embedPart').length === 1) throw new Error('embedding server restarting');
          return loadActivities().embedPart!(i);
        },
      }),
    );
    const result = await run();
    expect(result.status).toBe('ok');
    expect(w.callsOf('embedPart').map((c) => c.attempt)).toEqual([1, 2]);
    expect(result.chunks.embedded).toBe(2);
  });

  it('answers the progress query while it loads', async () => {
    const loading = gate();
    w.use(
      syncActivities({
        loadPart: async (i: never) => {
          await loading.promise;
          return loadActivities().loadPart!(i);
        },
      }),
    );
    const handle = await start();
    const during = await waitFor(
      () => handle.query<SyncProgress>('progress'),
      (p) => p.phase === 'load' && p.chunks.embedded > 0,
    );
    expect(during).toMatchObject({ phase: 'load', parts: { total: 1, loaded: 0 }, documents: totals, chunks: { embedded: 2, reused: 0, written: 0 } });
    loading.open();
    await handle.result();
    expect(await handle.query<SyncProgress>('progress')).toMatchObject({ phase: 'done', parts: { total: 1, loaded: 1 }, chunks: { written: 2 } });
  });

  it('refuses a bad input before any activity runs', async () => {
    w.use(syncActivities());
    const cause = await failure({ ...input, only: [{ sourceId: 'nope' }] });
    expect(cause.type).toBe('InvalidInput');
    expect(cause.message).toMatch(/only\.0\.sourceId: no source with id "nope" in sources/);
    expect(w.calls).toHaveLength(0);
  });
});
