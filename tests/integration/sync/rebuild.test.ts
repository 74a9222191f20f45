/**
 * Index identity on the real stack: ingest and sync name the same physical collection; a chunking change makes the
 * next sync build a new physical collection that search sees only once it is complete (blue/green via the alias).
 */
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../../activities';
import type { IngestInput, IngestResult } from '../../../lib/schemas/ingest';
import type { SyncInput, SyncResult } from '../../../lib/schemas/sync';
import { testConfig } from '../../harness/stack';
import { withWorker } from '../../harness/worker';
import { notesFixture, TOPICS, uniqueCollection } from './helpers';

const config = testConfig({ LANCEDB_URI: path.join(os.tmpdir(), `twinflow-sync-rebuild-${process.pid}-lancedb`) });
const collection = uniqueCollection('rebuild');
const NOTES = TOPICS.slice(0, 4);
const fx = notesFixture(config, collection, NOTES, 'rebuild');
let sources: SyncInput['sources'];

beforeAll(() => {
  sources = [{ type: 'folder', id: 'notes', path: fx.dir }];
});

describe('index identity', () => {
  let ingested: IngestResult;

  it('ingest and sync load into the same physical collection: a sync right after an ingest changes nothing', async () => {
    const chunking = { chunkTokens: 96, overlapTokens: 8 };
    const result = await withWorker(config, createActivities(fx.deps), async ({ client, taskQueue }) => {
      ingested = await client.workflow.execute('ingest', { taskQueue, workflowId: `ingest-${taskQueue}`, args: [{ collection, sources, chunking } as IngestInput] });
      return client.workflow.execute('sync', { taskQueue, workflowId: `sync-${taskQueue}`, args: [{ collection, sources, chunking }] });
    });
    const store = await fx.deps.vectorStore();
    expect(ingested.collection).toBe(collection);
    expect(ingested.physicalCollection).toMatch(new RegExp(`^${collection}__[0-9a-f]{10}$`));
    expect(await store.resolveAlias(collection)).toBe(ingested.physicalCollection);
    expect(result.physicalCollection).toBe(ingested.physicalCollection);
    expect(result.rebuilt).toBe(false);
    // The store's own content served as the previous state: every document is unchanged, nothing is embedded.
    expect(result.documents).toEqual({ inserted: 0, updated: 0, deleted: 0, unchanged: NOTES.length, retained: 0 });
    expect(result.chunks).toEqual({ embedded: 0, reused: 0, written: 0, deleted: 0 });
  });

  it('a chunking change builds a new physical collection and switches the alias only once it is complete', async () => {
    const store = await fx.deps.vectorStore();
    const old = ingested.physicalCollection!;
    const oldCount = await store.count(collection);

    // Hold the first load of the rebuild until the test has looked at what search sees meanwhile.
    const activities = createActivities(fx.deps);
    let loadStarted!: () => void;
    const started = new Promise<void>((r) => (loadStarted = r));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const gated = {
      ...activities,
      loadPart: async (input: Parameters<typeof activities.loadPart>[0]) => {
        loadStarted();
        await released;
        return activities.loadPart(input);
      },
    };

    const result = await withWorker(config, gated, async ({ client, taskQueue }) => {
      const handle = await client.workflow.start('sync', { taskQueue, workflowId: `sync-rebuild-${taskQueue}`, args: [{ collection, sources, chunking: { chunkTokens: 48, overlapTokens: 4 } }] });
      await started;
      // Mid-rebuild: the alias still points at the complete old collection, and search still answers from it.
      expect(await store.resolveAlias(collection)).toBe(old);
      expect(await store.count(collection)).toBe(oldCount);
      const building = (await store.listCollections()).filter((c) => c.startsWith(`${collection}__`));
      expect(building.sort()).toHaveLength(2);
      release();
      return (await handle.result()) as SyncResult;
    });

    expect(result.rebuilt).toBe(true);
    expect(result.physicalCollection).not.toBe(old);
    expect(result.droppedCollection).toBe(old);
    expect(result.documents).toMatchObject({ inserted: NOTES.length, deleted: 0 });
    expect(await store.resolveAlias(collection)).toBe(result.physicalCollection);
    expect((await store.listCollections()).filter((c) => c.startsWith(`${collection}__`))).toEqual([result.physicalCollection]);
    // Smaller chunks: more of them, all behind the alias now.
    expect(result.chunks.written).toBeGreaterThan(oldCount);
    expect(await store.count(collection)).toBe(result.chunks.written);
    const state = await fx.deps.artifacts.getJson<{ physical: string; identity: { chunking: { chunkTokens: number } } }>(result.state);
    expect(state).toMatchObject({ physical: result.physicalCollection, identity: { chunking: { chunkTokens: 48 } } });
  });
});
