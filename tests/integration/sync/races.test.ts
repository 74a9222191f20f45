/**
 * Races and half-finished runs on the real stack: ingest and sync of one collection never interleave; a lock holder
 * whose lock was taken over cannot commit (fencing); a sync that died after changing the store is reconciled even
 * when the source reverted meanwhile (the intent log records updates and deletes); a physical collection left behind
 * by a crash between the alias switch and the drop is cleaned up; an ingest with a new chunking never drops the
 * vectors of the collection's other sources.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../../activities';
import { createDeps, type Deps } from '../../../activities/deps';
import { createSyncActivities } from '../../../activities/sync';
import type { IngestInput } from '../../../lib/schemas/ingest';
import { physicalCollectionName, type SyncInput, type SyncResult } from '../../../lib/schemas/sync';
import { testConfig } from '../../harness/stack';
import { withWorker } from '../../harness/worker';
import { points, TOPICS, uniqueCollection, writeNote, writeShortNote } from './helpers';

const config = testConfig({ LANCEDB_URI: path.join(os.tmpdir(), `twinflow-sync-races-${process.pid}-lancedb`) });
let deps: Deps;
let work: string;
const collections: string[] = [];
let runs = 0;

function newCollection(prefix: string): string {
  const c = uniqueCollection(prefix);
  collections.push(c);
  return c;
}

function folder(name: string, notes: ReadonlyArray<readonly [string, string]>, short = true): string {
  const dir = path.join(work, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const [topic, fact] of notes) (short ? writeShortNote : writeNote)(dir, topic, fact);
  return dir;
}

async function execute<T>(type: 'sync' | 'ingest', input: SyncInput | IngestInput, activities: object = createActivities(deps)): Promise<T> {
  runs += 1;
  return withWorker(config, activities, async ({ client, taskQueue }) =>
    client.workflow.execute(type, { taskQueue, workflowId: `races-${type}-${runs}-${taskQueue}`, args: [input] }),
  ) as Promise<T>;
}

/** The store's documents with their content hashes, and whether any point id repeats. */
async function contents(collection: string): Promise<{ byDoc: Record<string, string>; points: number; unique: number }> {
  const all = await points(deps, collection);
  const byDoc: Record<string, string> = {};
  for (const p of all) byDoc[p.payload.location.split('/').pop()!] = p.payload.contentHash;
  return { byDoc, points: all.length, unique: new Set(all.map((p) => p.id)).size };
}

beforeAll(() => {
  fs.rmSync(config.vectorStore.lancedbUri, { recursive: true, force: true });
  deps = createDeps(config);
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-races-'));
});

afterAll(async () => {
  for (const c of collections) await deps.artifacts.deletePrefix(`state/${c}/`);
  fs.rmSync(work, { recursive: true, force: true });
  fs.rmSync(config.vectorStore.lancedbUri, { recursive: true, force: true });
});

/** Every message in an error's cause chain (a workflow failure wraps the activity's). */
function causes(err: unknown): string {
  const out: string[] = [];
  for (let e = err as { message?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) out.push(e.message ?? '');
  return out.join(' <- ');
}

/** When each activity of a workflow completed (ms since epoch). */
async function completedAt(client: Client, workflowId: string, activityType: string): Promise<number[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = new Map<string, string>();
  const out: number[] = [];
  for (const e of history.events ?? []) {
    if (e.activityTaskScheduledEventAttributes) scheduled.set(String(e.eventId), e.activityTaskScheduledEventAttributes.activityType!.name!);
    const done = e.activityTaskCompletedEventAttributes;
    if (done && scheduled.get(String(done.scheduledEventId)) === activityType) out.push(Number(e.eventTime!.seconds) * 1000 + Math.floor((e.eventTime!.nanos ?? 0) / 1e6));
  }
  return out;
}

describe('ingest and sync of one collection', () => {
  it('take the same lock: the second waits until the first has released it', async () => {
    const collection = newCollection('race');
    const notes = folder('race-notes', TOPICS.slice(0, 6), false);
    const input = { collection, sources: [{ type: 'folder' as const, id: 'notes', path: notes }], partSize: 1, concurrency: 1 };
    await withWorker(config, createActivities(deps), async ({ client, taskQueue }) => {
      const sync = await client.workflow.start('sync', { taskQueue, workflowId: `race-sync-${taskQueue}`, args: [input] });
      const ingest = await client.workflow.start('ingest', { taskQueue, workflowId: `race-ingest-${taskQueue}`, args: [input] });
      await Promise.all([sync.result(), ingest.result()]);
      const [syncLock] = await completedAt(client, sync.workflowId, 'acquireSyncLock');
      const [syncRelease] = await completedAt(client, sync.workflowId, 'releaseSyncLock');
      const [ingestLock] = await completedAt(client, ingest.workflowId, 'acquireSyncLock');
      const [ingestRelease] = await completedAt(client, ingest.workflowId, 'releaseSyncLock');
      // One held the lock from acquisition to release, then the other: the two intervals do not overlap.
      const [first, second] = syncLock! < ingestLock! ? [[syncLock!, syncRelease!], [ingestLock!, ingestRelease!]] : [[ingestLock!, ingestRelease!], [syncLock!, syncRelease!]];
      expect(second[0]!).toBeGreaterThanOrEqual(first[1]!);
    });
    const after = await contents(collection);
    expect(Object.keys(after.byDoc)).toHaveLength(6);
    expect(after.points).toBe(after.unique);
  });
});

describe('fencing', () => {
  it('a holder whose lock was taken over cannot commit; the new holder can', async () => {
    const collection = newCollection('fence');
    // Liveness says every holder is dead, so each acquisition takes the lock over.
    const sync = createSyncActivities(deps, { liveness: async () => false });
    const a = { workflowId: 'fence-a', runId: 'run-a' };
    const b = { workflowId: 'fence-b', runId: 'run-b' };
    const lockA = await sync.acquireSyncLock({ collection, owner: a });
    const lockB = await sync.acquireSyncLock({ collection, owner: b });
    expect(lockB.takenOverFrom).toEqual(a);
    expect(lockB.token).toBeGreaterThan(lockA.token);

    const index = await sync.resolveIndex({ collection, chunking: {} as never, runKey: `runs/fence/${Date.now()}` });
    const commit = (owner: typeof a, token: number) =>
      sync.commitSyncState({ collection, physical: index.physical, identity: index.identity, owner, states: {}, token });
    await expect(commit(a, lockA.token)).rejects.toMatchObject({ type: 'LockLost' });
    await expect(commit(b, lockB.token)).resolves.toMatchObject({ uri: expect.any(String) });
    await sync.releaseSyncLock({ collection, owner: b });

    // Even with the lock free again, a commit under an older token than the recorded state's is refused.
    const lockA2 = await sync.acquireSyncLock({ collection, owner: a });
    const stale = await sync.commitSyncState({ collection, physical: index.physical, identity: index.identity, owner: a, states: {}, token: lockA2.token });
    expect(stale.uri).toBeTruthy(); // the current holder may
    await expect(commit(a, lockA.token)).rejects.toMatchObject({ type: 'LockLost' });
    await sync.releaseSyncLock({ collection, owner: a });
  });
});

describe('a sync that died after changing the store', () => {
  it('is reconciled by the next one although the source reverted meanwhile (updates and deletes in the intent log)', async () => {
    const collection = newCollection('intent');
    const dir = folder('intent-notes', TOPICS.slice(0, 4));
    const input: SyncInput = { collection, sources: [{ type: 'folder', id: 'notes', path: dir }], partSize: 2, cleaning: { minChars: 50 } };
    await execute<SyncResult>('sync', input);
    const healthy = await contents(collection);

    // An edit and a deletion, synced by a run that loads and deletes, then dies before it commits.
    const [edited, removed] = [TOPICS[0]!, TOPICS[1]!];
    const editedFile = writeShortNote(dir, edited[0], edited[1], 7);
    const removedFile = path.join(dir, `${removed[0]}.md`);
    const removedText = fs.readFileSync(removedFile);
    fs.rmSync(removedFile);
    const dying = { ...createActivities(deps), commitSyncState: async () => Promise.reject(ApplicationFailure.nonRetryable('injected: the worker died before the commit', 'InjectedFault')) };
    await expect(execute('sync', input, dying)).rejects.toThrow();
    const changed = await contents(collection);
    expect(changed.byDoc[`${edited[0]}.md`]).not.toBe(healthy.byDoc[`${edited[0]}.md`]);
    expect(changed.byDoc[`${removed[0]}.md`]).toBeUndefined();

    // Both reverted at the source before the next sync: the recorded state says "unchanged" for both.
    writeShortNote(dir, edited[0], edited[1]);
    expect(fs.existsSync(editedFile)).toBe(true);
    fs.writeFileSync(removedFile, removedText);
    const next = await execute<SyncResult>('sync', input);
    expect(next.documents.deleted).toBe(0);
    const after = await contents(collection);
    expect(after).toEqual(healthy);
  });
});

describe('leftovers', () => {
  it('a physical collection left by a crash between the alias switch and the drop is dropped by the next run', async () => {
    const collection = newCollection('leftover');
    const dir = folder('leftover-notes', TOPICS.slice(4, 6));
    const input: SyncInput = { collection, sources: [{ type: 'folder', id: 'notes', path: dir }], cleaning: { minChars: 50 } };
    const first = await execute<SyncResult>('sync', input);
    const store = await deps.vectorStore();
    // What a run that died right after switching the alias leaves: the previous physical collection, not aliased.
    const orphan = physicalCollectionName(collection, 'ab'.repeat(10));
    await store.ensureCollection(orphan, { dimension: 384, distance: 'cosine' });
    expect(await store.listCollections()).toContain(orphan);
    const next = await execute<SyncResult>('sync', input);
    expect(next.physicalCollection).toBe(first.physicalCollection);
    expect(await store.listCollections()).not.toContain(orphan);
    expect(await store.resolveAlias(collection)).toBe(first.physicalCollection);
  });
});

describe('two sources that index the same text', () => {
  it('store it once, and an edit of it is applied (no stale copy kept as a "duplicate")', async () => {
    const collection = newCollection('overlap');
    const [topic, fact] = TOPICS[10]!;
    const repo = folder('overlap-repo', []);
    const docs = folder('overlap-docs', []);
    writeShortNote(docs, topic, fact);
    const only = (ids: string[]): SyncInput => ({
      collection,
      sources: ids.map((id) => ({ type: 'folder' as const, id, path: id === 'repo' ? repo : docs })),
      cleaning: { minChars: 50 },
    });
    await execute<SyncResult>('sync', only(['docs']));
    // The repository gains the same file: one copy of the text stays (the first source's).
    writeShortNote(repo, topic, fact);
    const both = await execute<SyncResult>('sync', only(['repo', 'docs']));
    expect(both.documents).toMatchObject({ inserted: 1, deleted: 1 });
    expect(Object.keys((await contents(collection)).byDoc)).toHaveLength(1);
    // The file is edited in both places: the edit reaches the store, and nothing of the old text remains.
    writeShortNote(repo, topic, fact, 3);
    writeShortNote(docs, topic, fact, 3);
    const edited = await execute<SyncResult>('sync', only(['repo', 'docs']));
    expect(edited.documents).toMatchObject({ updated: 1, deleted: 0, retained: 0 });
    const after = await points(deps, collection);
    expect(new Set(after.map((p) => p.payload.docId)).size).toBe(1);
    const stored = await (await deps.vectorStore()).retrieve(collection, after.map((p) => p.id));
    expect(stored.length).toBeGreaterThan(0);
    expect(stored.every((p) => p.text.includes('Revised in edition 3'))).toBe(true);
  });
});

describe('an ingest with new chunking', () => {
  it('never drops the vectors of the collection’s other sources', async () => {
    const collection = newCollection('partial');
    const a = folder('partial-a', TOPICS.slice(6, 8));
    const b = folder('partial-b', TOPICS.slice(8, 10));
    const sources: IngestInput['sources'] = [
      { type: 'folder', id: 'a', path: a },
      { type: 'folder', id: 'b', path: b },
    ];
    await execute('ingest', { collection, sources, cleaning: { minChars: 50 } });
    const before = await contents(collection);
    const refused = await execute('ingest', { collection, sources: [sources[0]!], chunking: { chunkTokens: 64, overlapTokens: 8 }, cleaning: { minChars: 50 } }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(causes(refused)).toMatch(/points come from sources this ingest does not include.*twinflow sync/);
    expect(await contents(collection)).toEqual(before);
    // With all of its sources, the same change rebuilds and switches over.
    await execute('ingest', { collection, sources, chunking: { chunkTokens: 64, overlapTokens: 8 }, cleaning: { minChars: 50 } });
    expect(Object.keys((await contents(collection)).byDoc).sort()).toEqual(Object.keys(before.byDoc).sort());
  });
});
