/**
 * The feature pipeline: crawl → clean → (dedupe) → chunk → embed → load.
 *
 * Each source runs as a child workflow (crawl, then clean part by part), so a big source has its own history and
 * can be retried or inspected on its own. The parent then drops exact duplicates across sources and loads the
 * cleaned parts through chunk → embed → load, a bounded number of parts at a time. Steps exchange S3 URIs only
 * (claim check); workflow state holds ids, counts and URIs.
 */
import {
  CancellationScope,
  defineQuery,
  executeChild,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { IngestActivities } from '../activities/ingest';
import type { SyncActivities } from '../activities/sync';
import {
  type CrawlIssue,
  type IngestInput,
  type IngestParams,
  type IngestProgress,
  type IngestResult,
  ingestInputSchema,
  type PartRef,
  type ReasonCounts,
  type SourceResult,
} from '../lib/schemas/ingest';
import type { SourceConfig } from '../lib/schemas/sources';
import { runBounded } from './concurrency';
import { COLLECTION_LOCK_ACTIVITY, CRAWL_ACTIVITY, PIPELINE_STEP_ACTIVITY } from './policies';
import { validateWorkflowInput } from './validation';
import { proxySummarizedActivities, sourcesMemo, sourcesPhrase, sourceTarget, startVisibility, uniq } from './visibility';

const crawlActivities = proxySummarizedActivities<IngestActivities>(CRAWL_ACTIVITY);
const stepActivities = proxySummarizedActivities<IngestActivities>(PIPELINE_STEP_ACTIVITY);
/** The collection's lock, shared with sync. */
const lockActivities = proxySummarizedActivities<SyncActivities>(COLLECTION_LOCK_ACTIVITY);

export const ingestProgressQuery = defineQuery<IngestProgress>('progress');
export const ingestSourceProgressQuery = defineQuery<{ phase: string; fetched: number; cleaned: number }>('progress');

/** Issues kept in workflow results; the full lists live in S3 reports. */
const MAX_ISSUES_IN_RESULT = 20;

export function addCounts(into: ReasonCounts, from: ReasonCounts): ReasonCounts {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
  return into;
}

export interface IngestSourceInput {
  source: SourceConfig;
  runKey: string;
  partSize: number;
  concurrency: number;
  cleaning: IngestParams['cleaning'];
}

/** Child workflow: crawl one source into raw parts, then clean each part. */
export async function ingestSource(input: IngestSourceInput): Promise<SourceResult> {
  const progress = { phase: 'crawl', fetched: 0, cleaned: 0 };
  setHandler(ingestSourceProgressQuery, () => progress);
  const s = input.source;
  await startVisibility({
    tags: { TwinflowSource: [s.id], TwinflowSourceType: [s.type] },
    memo: { summary: `crawl and clean ${s.type} source "${s.id}"`, source: sourcesMemo([s])[0], partSize: input.partSize },
    details: `crawl and clean ${s.type} source "${s.id}": ${sourceTarget(s)}`,
  });

  const crawl = await crawlActivities.crawlSource({ source: input.source, runKey: input.runKey, partSize: input.partSize });
  progress.fetched = crawl.fetched;
  progress.phase = 'clean';

  const dropped: ReasonCounts = {};
  const issues: CrawlIssue[] = [...crawl.issues];
  const cleanedParts: PartRef[] = new Array(crawl.rawParts.length);
  const dropReports: string[] = new Array(crawl.rawParts.length);
  let cleaned = 0;
  const cleanMs: number[] = [];
  await runBounded(crawl.rawParts, input.concurrency, async (rawPart, index) => {
    const out = await stepActivities.cleanPart({ rawPart, runKey: input.runKey, sourceId: input.source.id, partIndex: index, cleaning: input.cleaning });
    cleanedParts[index] = out.cleanedPart;
    dropReports[index] = out.dropReport;
    cleaned += out.cleanedPart.count;
    progress.cleaned = cleaned;
    addCounts(dropped, out.dropped);
    if (issues.length < MAX_ISSUES_IN_RESULT) issues.push(...out.issues.slice(0, MAX_ISSUES_IN_RESULT - issues.length));
    cleanMs.push(out.elapsedMs);
  });
  progress.phase = 'done';
  return {
    sourceId: input.source.id,
    sourceType: input.source.type,
    fetched: crawl.fetched,
    cleaned,
    skipped: crawl.skipped,
    failed: crawl.failed,
    dropped,
    rawParts: crawl.rawParts,
    cleanedParts,
    reportUri: crawl.reportUri,
    dropReports,
    listing: crawl.listing,
    issues,
    timingsMs: { crawl: crawl.elapsedMs, clean: cleanMs.reduce((a, b) => a + b, 0) },
  };
}

/** The feature pipeline workflow. One JSON input (see lib/schemas/ingest.ts). */
export async function ingest(rawInput: IngestInput): Promise<IngestResult> {
  const input = validateWorkflowInput(ingestInputSchema, rawInput, 'ingest');
  const info = workflowInfo();
  // Ingest and sync of one collection never interleave: both take the collection's lock (runs started before the
  // lock existed replay without it).
  if (!patched('ingest-takes-collection-lock')) return runIngest(input);
  const owner = { workflowId: info.workflowId, runId: info.runId };
  await lockActivities.acquireSyncLock({ collection: input.collection, owner });
  try {
    return await runIngest(input);
  } finally {
    await CancellationScope.nonCancellable(() => lockActivities.releaseSyncLock({ collection: input.collection, owner }));
  }
}

async function runIngest(input: IngestParams): Promise<IngestResult> {
  const info = workflowInfo();
  const runKey = `runs/${info.workflowId}/${info.runId}`;
  // Here, where the code before it upserted: a run stuck on that upsert (BadSearchAttributes) resumes on this path.
  const summary = `ingest ${sourcesPhrase(input.sources)} into "${input.collection}"`;
  await startVisibility({
    tags: {
      TwinflowPipeline: ['ingest'],
      TwinflowCollection: [input.collection],
      TwinflowSource: uniq(input.sources.map((s) => s.id)),
      TwinflowSourceType: uniq(input.sources.map((s) => s.type)),
    },
    memo: { summary, input: { collection: input.collection, sources: sourcesMemo(input.sources), chunking: input.chunking, concurrency: input.concurrency } },
    details: summary,
    legacy: { TwinflowPipeline: ['ingest'], TwinflowCollection: [input.collection] },
  });

  const progress: IngestProgress = {
    phase: 'crawl',
    sources: Object.fromEntries(input.sources.map((s) => [s.id, { phase: 'pending', fetched: 0, cleaned: 0 }])),
    parts: { total: 0, chunked: 0, embedded: 0, loaded: 0 },
    chunks: 0,
    vectors: 0,
  };
  setHandler(ingestProgressQuery, () => progress);

  // The physical collection of this index identity (model + chunking) must exist before any load; the user-facing
  // name is an alias, switched to it once the load is complete (the same naming as sync, see activities/sync).
  const collection = await stepActivities.prepareCollection({ collection: input.collection, chunking: input.chunking, sourceIds: input.sources.map((s) => s.id) });

  const sourceResults: SourceResult[] = new Array(input.sources.length);
  await runBounded(input.sources, input.concurrency, async (source, i) => {
    progress.sources[source.id]!.phase = 'crawl';
    sourceResults[i] = await executeChild(ingestSource, {
      workflowId: `${info.workflowId}--source-${source.id}`,
      args: [{ source, runKey, partSize: input.partSize, concurrency: input.concurrency, cleaning: input.cleaning }],
    });
    progress.sources[source.id] = { phase: 'done', fetched: sourceResults[i]!.fetched, cleaned: sourceResults[i]!.cleaned };
  });

  progress.phase = 'dedupe';
  const cleanedParts = sourceResults.flatMap((r) => r.cleanedParts).filter((p) => p.count > 0);
  const manifest = await stepActivities.buildManifest({ runKey, cleanedParts });

  progress.phase = 'load';
  progress.parts.total = cleanedParts.length;
  const vectors = { written: 0, embedded: 0, reused: 0 };
  const timings: Record<string, number> = { crawl: 0, clean: 0, manifest: manifest.elapsedMs, chunk: 0, embed: 0, load: 0 };
  for (const r of sourceResults) {
    timings.crawl! += r.timingsMs.crawl ?? 0;
    timings.clean! += r.timingsMs.clean ?? 0;
  }
  let loadedDocs = 0;
  await runBounded(cleanedParts, input.concurrency, async (part, index) => {
    const chunked = await stepActivities.chunkPart({
      cleanedPart: part,
      partIndex: index,
      runKey,
      duplicatesUri: manifest.duplicatesUri,
      chunking: input.chunking,
    });
    progress.parts.chunked += 1;
    progress.chunks += chunked.chunks;
    timings.chunk! += chunked.elapsedMs;
    const embedded = await stepActivities.embedPart({ chunksPart: chunked.chunksPart, partIndex: index, runKey });
    progress.parts.embedded += 1;
    vectors.embedded += embedded.embedded;
    vectors.reused += embedded.reused;
    timings.embed! += embedded.elapsedMs;
    const loaded = await stepActivities.loadPart({
      collection: collection.name,
      chunksPart: chunked.chunksPart,
      parentsPart: chunked.parentsPart,
      vectorsPart: embedded.vectorsPart,
      docIds: chunked.docIdsUri,
    });
    progress.parts.loaded += 1;
    progress.vectors += loaded.written;
    vectors.written += loaded.written;
    loadedDocs += loaded.documents;
    timings.load! += loaded.elapsedMs;
  });

  const skipped: ReasonCounts = {};
  const failed: ReasonCounts = {};
  const dropped: ReasonCounts = {};
  for (const r of sourceResults) {
    addCounts(skipped, r.skipped);
    addCounts(failed, r.failed);
    addCounts(dropped, r.dropped);
  }
  if (manifest.duplicates > 0) addCounts(dropped, { duplicate: manifest.duplicates });

  const result: IngestResult = {
    collection: input.collection,
    physicalCollection: collection.name,
    documents: {
      fetched: sourceResults.reduce((a, r) => a + r.fetched, 0),
      cleaned: sourceResults.reduce((a, r) => a + r.cleaned, 0),
      duplicates: manifest.duplicates,
      loaded: loadedDocs,
      skipped,
      failed,
      dropped,
    },
    chunks: progress.chunks,
    vectors,
    sources: sourceResults.map(({ rawParts: _r, cleanedParts: _c, dropReports: _d, timingsMs: _t, ...summary }) => summary),
    artifacts: {
      manifest: manifest.manifestUri,
      report: '',
      raw: sourceResults.flatMap((r) => r.rawParts.map((p) => p.uri)),
      cleaned: cleanedParts.map((p) => p.uri),
    },
    timings,
  };
  if (collection.live !== collection.name) await stepActivities.publishCollection({ alias: input.collection, physical: collection.name });
  const report = await stepActivities.writeRunReport({ runKey, result });
  result.artifacts.report = report.uri;
  progress.phase = 'done';
  return result;
}
