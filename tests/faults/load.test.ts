/**
 * Fault 7 (load): 20 ingests of small corpora into distinct collections and a sync of another, all started at once on
 * ONE CPU worker process (workers/cpu.ts with its defaults: 8 activity slots, the local ONNX embedding model). All
 * complete with exact counts; the worker's peak resident set (VmHWM of /proc/<pid>/status) is reported and bounded.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestInput, IngestResult } from '../../lib/schemas/ingest';
import type { SyncInput, SyncResult } from '../../lib/schemas/sync';
import { recordFaultRow, recordLoadFigures } from '../harness/fault-report';
import { startWorkerProcess, type WorkerProcess } from '../harness/fault-worker';
import { writeNotes } from './support/corpus';
import { mib, runClean, scratchDir, uniqueName } from './support/run';
import { snapshotStore } from './support/store';
import { connectClient } from './support/temporal';

const INGESTS = 20;
const NOTES_PER_INGEST = 5;
const SYNC_NOTES = 12;
/** The stated bound on the worker's peak RSS under this load (measured: see docs/reliability.md). */
const PEAK_RSS_BOUND_MIB = 1536;

let client: Client;
let closeClient: () => Promise<void>;
let worker: WorkerProcess | undefined;

beforeAll(async () => {
  ({ client, close: closeClient } = await connectClient());
});

afterAll(async () => {
  await worker?.kill();
  await closeClient?.();
});

const folderInput = (collection: string, dir: string): IngestInput & SyncInput => ({
  collection,
  sources: [{ type: 'folder', id: 'notes', path: dir }],
  cleaning: { minChars: 50 },
  partSize: 2,
});

describe('load', () => {
  it('load 20 concurrent ingests and a sync on one worker process', async () => {
    const name = 'load 20 concurrent ingests and a sync on one worker process';
    const root = scratchDir('load');
    const lancedb = path.join(root, 'lancedb');
    // The clean run: one corpus of the same shape alone, on a worker of its own and a store of its own.
    const refDir = writeNotes(path.join(root, 'ref'), 'reference', NOTES_PER_INGEST);
    const refCollection = uniqueName('load_ref');
    const refLancedb = path.join(root, 'ref-lancedb');
    const ref = await runClean<IngestResult>(client, 'ingest', folderInput(refCollection, refDir), { LANCEDB_URI: refLancedb }, 'load-ref');
    const refStore = await snapshotStore(refLancedb, refCollection);
    expect(ref.documents.loaded).toBe(NOTES_PER_INGEST);
    expect(refStore.points).toBe(ref.vectors.written);

    const corpora = Array.from({ length: INGESTS }, (_, i) => ({ dir: writeNotes(path.join(root, `c${i}`), `corpus ${i}`, NOTES_PER_INGEST), collection: uniqueName(`load_${i}`) }));
    const syncDir = writeNotes(path.join(root, 'sync'), 'synced notes', SYNC_NOTES);
    const syncCollection = uniqueName('load_sync');

    const taskQueue = `faults-load-${randomUUID()}`;
    worker = await startWorkerProcess({ kind: 'cpu', taskQueue, env: { LANCEDB_URI: lancedb }, name: 'load' });
    const idle = worker.memory();
    let maxRss = idle.rssKiB;
    const sampler = setInterval(() => (maxRss = Math.max(maxRss, worker!.memory().rssKiB)), 100);
    const started = Date.now();
    let ingests: IngestResult[];
    let sync: SyncResult;
    try {
      const runs = corpora.map((c, i) => client.workflow.execute('ingest', { taskQueue, workflowId: `load-ingest-${i}-${randomUUID()}`, args: [folderInput(c.collection, c.dir)] }));
      const syncRun = client.workflow.execute('sync', { taskQueue, workflowId: `load-sync-${randomUUID()}`, args: [folderInput(syncCollection, syncDir)] });
      [ingests, sync] = await Promise.all([Promise.all(runs) as Promise<IngestResult[]>, syncRun as Promise<SyncResult>]);
    } finally {
      clearInterval(sampler);
    }
    const wallMs = Date.now() - started;
    const { peakKiB } = worker.memory();
    await worker.stop();
    worker = undefined;

    // Every run complete with the clean run's counts; every store exactly its folder's notes, once each.
    let documents = 0;
    let points = 0;
    let lost = 0;
    let duplicated = 0;
    const problems: string[] = [];
    const check = async (collection: string, dir: string, expected: number) => {
      const snap = await snapshotStore(lancedb, collection);
      const files = new Set(fs.readdirSync(dir).map((f) => path.join(dir, f)));
      const located = snap.rows.map((r) => decodeURIComponent(new URL(r.location).pathname));
      lost += [...files].filter((f) => !located.includes(f)).length;
      duplicated += snap.duplicateIds + snap.duplicateDocChunks + located.filter((l) => !files.has(l)).length + Math.max(0, snap.points - expected);
      if (snap.documents !== expected || snap.points !== expected) problems.push(`${collection}: ${snap.documents} documents, ${snap.points} points, expected ${expected}`);
      documents += snap.documents;
      points += snap.points;
    };
    for (const [i, r] of ingests.entries()) {
      expect(r.documents).toEqual(ref.documents);
      expect(r.chunks).toBe(ref.chunks);
      expect(r.vectors.written).toBe(ref.vectors.written);
      await check(corpora[i]!.collection, corpora[i]!.dir, refStore.points);
    }
    expect(sync.documents).toEqual({ inserted: SYNC_NOTES, updated: 0, deleted: 0, unchanged: 0, retained: 0 });
    expect(sync.failedSources).toEqual([]);
    await check(syncCollection, syncDir, SYNC_NOTES);
    expect(problems).toEqual([]);
    expect(lost).toBe(0);
    expect(duplicated).toBe(0);

    const peakMiB = mib(peakKiB);
    expect(peakMiB).toBeLessThan(PEAK_RSS_BOUND_MIB);
    const clean = { documents: INGESTS * refStore.documents + SYNC_NOTES, points: INGESTS * refStore.points + SYNC_NOTES };
    recordLoadFigures({ ingests: INGESTS, syncs: 1, peakRssMiB: peakMiB, boundMiB: PEAK_RSS_BOUND_MIB, wallMs, documents, points, embedding: 'local ONNX all-MiniLM-L6-v2, 8 activity slots' });
    recordFaultRow({
      name,
      order: 8,
      injected: `${INGESTS} ingests (${NOTES_PER_INGEST} notes each, distinct collections) and 1 sync (${SYNC_NOTES} notes) started at once on one CPU worker process (local embedding model, 8 activity slots)`,
      happened: `all ${INGESTS + 1} runs completed in ${(wallMs / 1000).toFixed(1)} s; worker peak RSS (VmHWM) ${peakMiB} MiB (idle ${mib(idle.rssKiB)} MiB, highest sampled RSS ${mib(maxRss)} MiB; bound ${PEAK_RSS_BOUND_MIB} MiB)`,
      clean,
      after: { documents, points },
      lost,
      duplicated,
      metrics: { peakRssMiB: peakMiB, idleRssMiB: mib(idle.rssKiB), maxSampledRssMiB: mib(maxRss), boundMiB: PEAK_RSS_BOUND_MIB, wallMs },
      wallMs: Date.now() - started,
    });
  });
});
