/**
 * Pull sync on the real stack (Temporal, MinIO, LanceDB, the MiniLM model) over a folder source: first sync, a sync
 * with no change, one edit + one delete + one addition, and a source that is down.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../../activities';
import type { SyncInput, SyncResult } from '../../../lib/schemas/sync';
import { testConfig } from '../../harness/stack';
import { withWorker } from '../../harness/worker';
import { notesFixture, points, TOPICS, uniqueCollection, writeNote } from './helpers';

const config = testConfig({ LANCEDB_URI: path.join(os.tmpdir(), `twinflow-sync-${process.pid}-lancedb`) });
const collection = uniqueCollection('sync');
let input: SyncInput;
let runs = 0;

async function runSync(): Promise<SyncResult> {
  runs += 1;
  return withWorker(config, createActivities(fx.deps), async ({ client, taskQueue }) =>
    client.workflow.execute('sync', { taskQueue, workflowId: `sync-test-${runs}-${taskQueue}`, args: [input] }),
  );
}

const NOTES = TOPICS.slice(0, 8);

const fx = notesFixture(config, collection, NOTES, 'sync');

beforeAll(() => {
  input = { collection, sources: [{ type: 'folder', id: 'notes', path: fx.dir }], partSize: 3, chunking: { chunkTokens: 96, overlapTokens: 8 } };
});

describe('sync (pull) over a folder', () => {
  let first: SyncResult;

  it('loads everything on the first sync, into a physical collection behind the alias', async () => {
    first = await runSync();
    expect(first.documents).toEqual({ inserted: NOTES.length, updated: 0, deleted: 0, unchanged: 0, retained: 0 });
    expect(first.rebuilt).toBe(true);
    expect(first.physicalCollection).toMatch(new RegExp(`^${collection}__[0-9a-f]{10}$`));
    const store = await fx.deps.vectorStore();
    expect(await store.resolveAlias(collection)).toBe(first.physicalCollection);
    expect(first.chunks.written).toBeGreaterThan(NOTES.length);
    expect(first.chunks.embedded + first.chunks.reused).toBe(first.chunks.written);
    expect(await store.count(collection)).toBe(first.chunks.written);
    const state = await fx.deps.artifacts.getJson<{ sources: Record<string, { documents: number }> }>(first.state);
    expect(state.sources.notes!.documents).toBe(NOTES.length);
  });

  it('embeds nothing and writes nothing when nothing changed', async () => {
    const second = await runSync();
    expect(second.documents).toEqual({ inserted: 0, updated: 0, deleted: 0, unchanged: NOTES.length, retained: 0 });
    expect(second.chunks).toEqual({ embedded: 0, reused: 0, written: 0, deleted: 0 });
    expect(second.rebuilt).toBe(false);
    expect(second.physicalCollection).toBe(first.physicalCollection);
    expect(await (await fx.deps.vectorStore()).count(collection)).toBe(first.chunks.written);
  });

  it('reflects exactly one edit, one deletion and one addition, embedding only the chunks whose text changed', async () => {
    const [edited, removed, added] = [NOTES[0]!, NOTES[1]!, TOPICS[10]!];
    const before = await points(fx.deps, collection);
    const hashesBefore = new Set(before.map((p) => p.payload.chunkHash));
    const editedDocId = before.find((p) => p.payload.location.endsWith(`/${edited[0]}.md`))!.payload.docId;
    const removedDocId = before.find((p) => p.payload.location.endsWith(`/${removed[0]}.md`))!.payload.docId;
    const editedChunksBefore = before.filter((p) => p.payload.docId === editedDocId).length;

    writeNote(fx.dir, edited[0], edited[1], 1);
    fs.rmSync(path.join(fx.dir, `${removed[0]}.md`));
    writeNote(fx.dir, added[0], added[1]);
    const third = await runSync();

    expect(third.documents).toEqual({ inserted: 1, updated: 1, deleted: 1, unchanged: NOTES.length - 2, retained: 0 });
    const after = await points(fx.deps, collection);
    const editedAfter = after.filter((p) => p.payload.docId === editedDocId);
    const addedAfter = after.filter((p) => p.payload.location.endsWith(`/${added[0]}.md`));
    // Only chunk texts never embedded before went through the model: the edited section's and the new note's.
    const newTexts = new Set([...editedAfter, ...addedAfter].map((p) => p.payload.chunkHash).filter((h) => !hashesBefore.has(h)));
    expect(third.chunks.embedded).toBe(newTexts.size);
    expect(third.chunks.embedded).toBeLessThan(editedAfter.length + addedAfter.length);
    expect(third.chunks.written).toBe(editedAfter.length + addedAfter.length);
    expect(third.chunks.deleted).toBe(before.filter((p) => p.payload.docId === removedDocId).length + Math.max(0, editedChunksBefore - editedAfter.length));

    // Payloads: the edited note carries its new content hash on every chunk; the removed one has no point left.
    expect(new Set(editedAfter.map((p) => p.payload.contentHash)).size).toBe(1);
    expect(editedAfter[0]!.payload.contentHash).not.toBe(before.find((p) => p.payload.docId === editedDocId)!.payload.contentHash);
    expect(after.filter((p) => p.payload.docId === removedDocId)).toEqual([]);
    expect(new Set(after.map((p) => p.payload.docId)).size).toBe(NOTES.length);

    // Search: the new note and the rewritten section are found; the removed note is not.
    const store = await fx.deps.vectorStore();
    const embedder = await fx.deps.cachedEmbedder();
    const top = async (q: string) => (await store.search(collection, { vector: await embedder.embedQuery(q), limit: 3 })).map((h) => h.payload.location);
    expect((await top('lactic acid bacteria ferment napa cabbage into kimchi'))[0]).toMatch(/fermentation\.md$/);
    expect((await top(`the ${edited[0]} chapter was rewritten after the new field survey`))[0]).toMatch(new RegExp(`${edited[0]}\\.md$`));
    expect((await top('lighthouse keeper trims the wick and logs passing ships')).some((l) => l.endsWith(`/${removed[0]}.md`))).toBe(false);
  });

  it('keeps the documents of a source that cannot be read at all, instead of deleting them', async () => {
    const count = await (await fx.deps.vectorStore()).count(collection);
    const away = `${fx.dir}-away`;
    fs.renameSync(fx.dir, away);
    try {
      const down = await runSync();
      expect(down.failedSources).toEqual(['notes']);
      expect(down.sources[0]).toMatchObject({ sourceId: 'notes', status: 'failed', retained: NOTES.length });
      expect(down.documents.deleted).toBe(0);
      expect(down.chunks.deleted).toBe(0);
      expect(await (await fx.deps.vectorStore()).count(collection)).toBe(count);
    } finally {
      fs.renameSync(away, fx.dir);
    }
    // Back up: nothing changed meanwhile, so the next sync finds everything unchanged (the state was kept).
    const back = await runSync();
    expect(back.documents).toMatchObject({ inserted: 0, updated: 0, deleted: 0, unchanged: NOTES.length });
  });
});
