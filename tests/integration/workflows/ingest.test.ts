/**
 * The ingest workflow's decisions with mocked activities (seconds, no crawl, no model, no store): one child per
 * source, the counts it adds up, the lock it takes and releases, the alias it switches, a ConfigError failing at once
 * (non-retryable only through NON_RETRYABLE), a retried crawl, and its progress query while it loads.
 */
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../lib/config';
import type { IngestInput, IngestProgress, IngestResult } from '../../../lib/schemas/ingest';
import { INGEST_ACTIVITY_TYPES, loadActivities, lockActivities, sourceActivities } from './fixtures';
import { failureOf, gate, type MockActivities, type MockWorker, startMockWorker, waitFor } from './mock-worker';

let w: MockWorker;
let runs = 0;

beforeAll(async () => {
  w = await startMockWorker(INGEST_ACTIVITY_TYPES);
});
afterAll(async () => {
  await w?.stop();
});

const input: IngestInput = {
  collection: 'mocked',
  sources: [
    { type: 'folder', id: 'notes', path: '/nowhere/notes' },
    { type: 'folder', id: 'wiki', path: '/nowhere/wiki' },
  ],
};

function ingestActivities(over: MockActivities = {}): MockActivities {
  return {
    ...lockActivities(),
    ...sourceActivities(),
    ...loadActivities(),
    prepareCollection: () => ({ name: 'mocked__0123456789', dimension: 4, model: 'm', alias: 'mocked', live: undefined }),
    ...over,
  };
}

function start(args: IngestInput = input) {
  runs += 1;
  return w.client.workflow.start('ingest', { taskQueue: w.taskQueue, workflowId: `mock-ingest-${runs}-${w.taskQueue}`, args: [args] });
}

describe('ingest with mocked activities', () => {
  it('crawls each source in its own child, adds up the counts, switches the alias and releases the lock', async () => {
    w.use(ingestActivities({ buildManifest: () => ({ manifestUri: 's3://t/manifest.json', duplicatesUri: 's3://t/dup.json', duplicates: 1, elapsedMs: 1 }) }));
    const handle = await start();
    const result = (await handle.result()) as IngestResult;
    expect(result.documents).toMatchObject({ fetched: 6, cleaned: 6, duplicates: 1, loaded: 6, dropped: { duplicate: 1 } });
    expect(result.chunks).toBe(12);
    expect(result.vectors).toEqual({ written: 12, embedded: 12, reused: 0 });
    expect(result.physicalCollection).toBe('mocked__0123456789');
    expect(result.artifacts.report).toBe('s3://t/run-report.json');
    // One child per source, named after the parent.
    expect(w.callsOf('crawlSource').map((c) => (c.input.source as { id: string }).id).sort()).toEqual(['notes', 'wiki']);
    // The alias is switched only because it did not point at the new physical collection yet.
    expect(w.callsOf('publishCollection').map((c) => c.input)).toEqual([{ alias: 'mocked', physical: 'mocked__0123456789' }]);
    const order = w.calls.map((c) => c.activity);
    expect(order[0]).toBe('acquireSyncLock');
    expect(order[order.length - 1]).toBe('releaseSyncLock');
    expect(await handle.query<IngestProgress>('progress')).toMatchObject({ phase: 'done', parts: { total: 2, chunked: 2, embedded: 2, loaded: 2 }, chunks: 12, vectors: 12 });
  });

  it('leaves the alias alone when it already points at the collection', async () => {
    w.use(ingestActivities({ prepareCollection: () => ({ name: 'mocked__0123456789', dimension: 4, model: 'm', alias: 'mocked', live: 'mocked__0123456789' }) }));
    await (await start()).result();
    expect(w.callsOf('publishCollection')).toHaveLength(0);
  });

  it('fails at once on a ConfigError (a plain Error, non-retryable only through NON_RETRYABLE) and releases the lock', async () => {
    w.use(
      ingestActivities({
        embedPart: () => {
          throw new ConfigError('Invalid configuration: EMBEDDING_MODEL: not set');
        },
      }),
    );
    const started = Date.now();
    const cause = await failureOf((await start({ ...input, sources: [input.sources[0]!] })).result());
    expect(cause.type).toBe('ConfigError');
    expect(cause.message).toMatch(/EMBEDDING_MODEL: not set/);
    expect(w.callsOf('embedPart').map((c) => c.attempt)).toEqual([1]);
    expect(w.callsOf('releaseSyncLock')).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('retries a crawl that failed with a retryable error', async () => {
    w.use(
      ingestActivities({
        crawlSource: (i: never) => {
          if (w.callsOf('crawlSource').length === 1) throw ApplicationFailure.retryable('connection reset', 'FetchError');
          return sourceActivities().crawlSource!(i);
        },
      }),
    );
    const result = (await (await start({ ...input, sources: [input.sources[0]!] })).result()) as IngestResult;
    expect(w.callsOf('crawlSource').map((c) => c.attempt)).toEqual([1, 2]);
    expect(result.documents.loaded).toBe(3);
  });

  it('answers the progress query while it loads', async () => {
    const loading = gate();
    w.use(
      ingestActivities({
        loadPart: async (i: never) => {
          await loading.promise;
          return loadActivities().loadPart!(i);
        },
      }),
    );
    const handle = await start();
    const during = await waitFor(
      () => handle.query<IngestProgress>('progress'),
      (p) => p.phase === 'load' && p.parts.embedded === 2,
    );
    expect(during).toEqual({
      phase: 'load',
      sources: { notes: { phase: 'done', fetched: 3, cleaned: 3 }, wiki: { phase: 'done', fetched: 3, cleaned: 3 } },
      parts: { total: 2, chunked: 2, embedded: 2, loaded: 0 },
      chunks: 12,
      vectors: 0,
    });
    loading.open();
    await handle.result();
  });
});
