/**
 * What the mocked feature-pipeline activities return: the smallest values of the right shape, one source of `docs`
 * documents in one part, so a test states only what its case changes.
 */
import type { MockActivities } from './mock-worker';

export const INGEST_ACTIVITY_TYPES = [
  'acquireSyncLock',
  'releaseSyncLock',
  'prepareCollection',
  'crawlSource',
  'cleanPart',
  'buildManifest',
  'chunkPart',
  'embedPart',
  'loadPart',
  'publishCollection',
  'writeRunReport',
] as const;

export const SYNC_ACTIVITY_TYPES = [...INGEST_ACTIVITY_TYPES, 'resolveIndex', 'planSync', 'deleteDocuments', 'commitSyncState'] as const;

const listing = { complete: true, gaps: [] };

/** The activities one source with one raw part takes through crawl and clean (the `ingestSource` child). */
export function sourceActivities(docs = 3): MockActivities {
  return {
    crawlSource: (i: { source: { id: string } }) => ({
      fetched: docs,
      skipped: {},
      failed: {},
      issues: [],
      rawParts: [{ uri: `s3://t/raw/${i.source.id}-0.jsonl`, count: docs }],
      reportUri: `s3://t/report/${i.source.id}.jsonl`,
      listing,
      elapsedMs: 5,
    }),
    cleanPart: (i: { sourceId: string; partIndex: number }) => ({
      cleanedPart: { uri: `s3://t/clean/${i.sourceId}-${i.partIndex}.jsonl`, count: docs },
      dropReport: `s3://t/drops/${i.sourceId}-${i.partIndex}.jsonl`,
      dropped: {},
      issues: [],
      elapsedMs: 2,
    }),
  };
}

/** chunk → embed → load of any part: two chunks per document, all embedded anew. */
export function loadActivities(): MockActivities {
  return {
    buildManifest: () => ({ manifestUri: 's3://t/manifest.json', duplicatesUri: 's3://t/duplicates.json', duplicates: 0, elapsedMs: 1 }),
    chunkPart: (i: { partIndex: number; cleanedPart: { count: number } }) => ({
      chunksPart: { uri: `s3://t/chunks-${i.partIndex}.jsonl`, count: i.cleanedPart.count * 2 },
      parentsPart: { uri: `s3://t/parents-${i.partIndex}.jsonl`, count: i.cleanedPart.count },
      docIdsUri: `s3://t/docids-${i.partIndex}.json`,
      chunks: i.cleanedPart.count * 2,
      elapsedMs: 1,
    }),
    embedPart: (i: { chunksPart: { count: number }; partIndex: number }) => ({
      vectorsPart: { uri: `s3://t/vectors-${i.partIndex}.jsonl`, count: i.chunksPart.count },
      embedded: i.chunksPart.count,
      reused: 0,
      elapsedMs: 1,
    }),
    loadPart: (i: { chunksPart: { count: number } }) => ({ written: i.chunksPart.count, documents: i.chunksPart.count / 2, deletedStale: 0, elapsedMs: 1 }),
    publishCollection: () => ({ dropped: undefined }),
    writeRunReport: () => ({ uri: 's3://t/run-report.json' }),
  };
}

export function lockActivities(): MockActivities {
  return { acquireSyncLock: () => ({ token: 7 }), releaseSyncLock: () => undefined };
}
