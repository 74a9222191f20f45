/**
 * Change data capture: keep a collection equal to its sources at the cost of what changed.
 *
 * `sync` (pull: the nightly schedule, `twinflow sync`) crawls and cleans every source with the feature pipeline's own
 * child workflow, diffs the documents' content hashes against the state recorded by the last successful sync, sends
 * only inserted and updated documents through chunk → embed → load (the embedding cache skips unchanged chunk texts),
 * deletes what disappeared, and only then moves the recorded state forward.
 *
 * `syncOnEvents` (push: bucket notifications) is one long-lived workflow per collection that collects changed object
 * keys from signals, waits for a burst to end, and runs `sync` for just those keys. One code path, two triggers.
 */
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  executeChild,
  isCancellation,
  log,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { IngestActivities } from '../activities/ingest';
import type { SyncActivities } from '../activities/sync';
import type { PlanSource } from '../activities/sync/plan';
import type { SourceResult } from '../lib/schemas/ingest';
import {
  type ObjectsChanged,
  objectsChangedSignalName,
  type SyncInput,
  syncInputSchema,
  type SyncOnEventsInput,
  syncOnEventsInputSchema,
  type SyncOnEventsStatus,
  type SyncParams,
  type SyncProgress,
  type SyncResult,
  type SyncScope,
} from '../lib/schemas/sync';
import { runBounded } from './concurrency';
import { ingestSource } from './ingest';
import { COLLECTION_LOCK_ACTIVITY, PIPELINE_STEP_ACTIVITY } from './policies';
import { validateWorkflowInput } from './validation';
import { proxySummarizedActivities, sourcesMemo, sourcesPhrase, startVisibility, uniq, type Visibility } from './visibility';

type Activities = IngestActivities & SyncActivities;

const steps = proxySummarizedActivities<Activities>(PIPELINE_STEP_ACTIVITY);
/** Waiting for another sync of the same collection: SyncBusy is retried without an attempt limit. */
const lock = proxySummarizedActivities<Activities>(COLLECTION_LOCK_ACTIVITY);

export const syncProgressQuery = defineQuery<SyncProgress>('progress');

/** The whole cause chain ("Child Workflow execution failed: Activity task failed: <what the source said>"): a failed
 * child wraps an activity failure that wraps the real reason, and the reason is what a user needs to read. */
function errorMessage(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e !== undefined && parts.length < 8; e = (e as { cause?: unknown }).cause) {
    const message = e instanceof Error ? e.message : String(e);
    if (message && parts.at(-1) !== message) parts.push(message);
    if (!(e instanceof Error)) break;
  }
  return parts.join(': ');
}

/** The pull sync of one collection. One JSON input (see lib/schemas/sync.ts). */
export async function sync(rawInput: SyncInput): Promise<SyncResult> {
  const input = validateWorkflowInput(syncInputSchema, rawInput, 'sync');
  const info = workflowInfo();
  const owner = { workflowId: info.workflowId, runId: info.runId };
  const scoped = input.only ? `, ${input.only.length} changed source${input.only.length === 1 ? '' : 's'}` : '';
  const summary = `sync "${input.collection}" with ${sourcesPhrase(input.sources)}${scoped}`;
  const visibility = await startVisibility({
    tags: {
      TwinflowPipeline: ['sync'],
      TwinflowCollection: [input.collection],
      TwinflowSource: uniq(input.sources.map((s) => s.id)),
      TwinflowSourceType: uniq(input.sources.map((s) => s.type)),
    },
    memo: {
      summary,
      input: { collection: input.collection, sources: sourcesMemo(input.sources), chunking: input.chunking, ...(input.only ? { only: input.only.map((o) => ({ sourceId: o.sourceId, keys: o.keys?.length ?? 'all' })) } : {}) },
    },
    details: summary,
    legacy: { TwinflowPipeline: ['sync'], TwinflowCollection: [input.collection] },
  });
  const progress: SyncProgress = { phase: 'lock', parts: { total: 0, loaded: 0 }, chunks: { embedded: 0, reused: 0, written: 0 } };
  setHandler(syncProgressQuery, () => progress);

  const { token } = await lock.acquireSyncLock({ collection: input.collection, owner });
  try {
    return await runSync(input, owner, progress, token, visibility);
  } finally {
    // Released even when this run is cancelled; a run that is terminated leaves it to be taken over (see lock.ts).
    await CancellationScope.nonCancellable(() => lock.releaseSyncLock({ collection: input.collection, owner }));
  }
}

async function runSync(
  input: SyncParams,
  owner: { workflowId: string; runId: string },
  progress: SyncProgress,
  token: number | undefined,
  visibility: Visibility,
): Promise<SyncResult> {
  const runKey = `runs/${owner.workflowId}/${owner.runId}`;
  const collection = input.collection;

  progress.phase = 'resolve';
  const index = await steps.resolveIndex({ collection, chunking: input.chunking, runKey });

  // A push sync touches only its sources (and keys), unless the index is being (re)built: that needs every document.
  const scope = input.only && !index.rebuild ? new Map<string, SyncScope>(input.only.map((s) => [s.sourceId, s])) : undefined;
  const toCrawl = input.sources.filter((s) => !scope || scope.has(s.id));

  progress.phase = 'crawl';
  const crawled = new Map<string, SourceResult>();
  const crawlErrors = new Map<string, string>();
  await runBounded(toCrawl, input.concurrency, async (source) => {
    const keys = scope?.get(source.id)?.keys;
    const config = keys && source.type === 's3' ? { ...source, keys } : source;
    try {
      const result = await executeChild(ingestSource, {
        workflowId: `${owner.workflowId}--source-${source.id}`,
        args: [{ source: config, runKey, partSize: input.partSize, concurrency: input.concurrency, cleaning: input.cleaning }],
      });
      crawled.set(source.id, result);
    } catch (err) {
      if (isCancellation(err)) throw err;
      // A source that cannot be crawled at all keeps its recorded state: an outage is not a deletion.
      log.warn('source failed; its previous state is kept', { source: source.id, error: errorMessage(err) });
      crawlErrors.set(source.id, errorMessage(err));
    }
  });

  progress.phase = 'diff';
  const cleanedParts = toCrawl.flatMap((s) => crawled.get(s.id)?.cleanedParts ?? []).filter((p) => p.count > 0);
  const manifest = await steps.buildManifest({ runKey, cleanedParts });
  const planSources: PlanSource[] = input.sources.map((s) => {
    const r = crawled.get(s.id);
    const keys = scope?.get(s.id)?.keys;
    return {
      sourceId: s.id,
      sourceType: s.type,
      status: scope && !scope.has(s.id) ? 'untouched' : r ? 'crawled' : 'failed',
      fetched: r?.fetched ?? 0,
      cleaned: r?.cleaned ?? 0,
      failed: r?.failed ?? {},
      reportUri: r?.reportUri,
      dropReports: r?.dropReports,
      listing: r?.listing,
      keys: keys && s.type === 's3' ? { bucket: s.bucket, keys } : undefined,
      error: crawlErrors.get(s.id),
    };
  });
  const plan = await steps.planSync({
    runKey,
    collection,
    owner,
    manifestUri: manifest.manifestUri,
    duplicatesUri: manifest.duplicatesUri,
    previous: index.previous,
    sources: planSources,
    partSize: input.partSize,
    removeUnlisted: !scope,
    deletionGuard: input.deletionGuard,
    allowMassDeletion: input.allowMassDeletion,
  });
  progress.documents = plan.totals;
  if (plan.deletionsHeld) {
    progress.deletionsHeld = plan.deletionsHeld;
    log.warn('deletions held by the guard; nothing is deleted', { collection, ...plan.deletionsHeld });
    visibility.tag({ TwinflowStatus: ['deletions_held'] });
  }

  progress.phase = 'load';
  progress.parts.total = plan.deltaParts.length;
  const chunks = { embedded: 0, reused: 0, written: 0, deleted: 0 };
  const timings: Record<string, number> = { manifest: manifest.elapsedMs, plan: plan.elapsedMs, chunk: 0, embed: 0, load: 0, delete: 0 };
  for (const r of crawled.values()) {
    timings.crawl = (timings.crawl ?? 0) + (r.timingsMs.crawl ?? 0);
    timings.clean = (timings.clean ?? 0) + (r.timingsMs.clean ?? 0);
  }
  await runBounded(plan.deltaParts, input.concurrency, async (part, i) => {
    const chunked = await steps.chunkPart({ cleanedPart: part, partIndex: i, runKey, chunking: input.chunking });
    timings.chunk! += chunked.elapsedMs;
    const embedded = await steps.embedPart({ chunksPart: chunked.chunksPart, partIndex: i, runKey });
    chunks.embedded += embedded.embedded;
    chunks.reused += embedded.reused;
    progress.chunks.embedded = chunks.embedded;
    progress.chunks.reused = chunks.reused;
    timings.embed! += embedded.elapsedMs;
    const loaded = await steps.loadPart({
      collection: index.physical,
      chunksPart: chunked.chunksPart,
      parentsPart: chunked.parentsPart,
      vectorsPart: embedded.vectorsPart,
      docIds: chunked.docIdsUri,
    });
    chunks.written += loaded.written;
    chunks.deleted += loaded.deletedStale;
    progress.chunks.written = chunks.written;
    progress.parts.loaded += 1;
    timings.load! += loaded.elapsedMs;
  });

  progress.phase = 'delete';
  if (plan.deletions > 0) {
    const deleted = await steps.deleteDocuments({ collection: index.physical, deletionsUri: plan.deletionsUri });
    chunks.deleted += deleted.points;
    timings.delete = deleted.elapsedMs;
  }

  // Only now, with every load and delete done, does the recorded state move forward.
  progress.phase = 'commit';
  const committed = await steps.commitSyncState({ collection, physical: index.physical, identity: index.identity, owner, states: plan.states, token });
  let droppedCollection: string | undefined;
  if (index.live !== index.physical) {
    droppedCollection = (await steps.publishCollection({ alias: collection, physical: index.physical })).dropped;
  }

  const result: SyncResult = {
    collection,
    physicalCollection: index.physical,
    rebuilt: index.rebuild,
    ...(droppedCollection ? { droppedCollection } : {}),
    documents: plan.totals,
    chunks,
    sources: plan.sources,
    failedSources: plan.sources.filter((s) => s.status === 'failed').map((s) => s.sourceId),
    status: plan.deletionsHeld ? 'deletions_held' : 'ok',
    ...(plan.deletionsHeld ? { deletionsHeld: plan.deletionsHeld } : {}),
    state: committed.uri,
    report: '',
    timings,
  };
  result.report = (await steps.writeRunReport({ runKey, result })).uri;
  progress.phase = 'done';
  return result;
}

// ---- push: one debouncing workflow per collection ----

export const objectsChangedSignal = defineSignal<[ObjectsChanged]>(objectsChangedSignalName);
export const syncOnEventsStatusQuery = defineQuery<SyncOnEventsStatus>('status');

/** Keeps the history well below Temporal's limits; continue-as-new carries the pending keys over. */
const MAX_HISTORY_EVENTS = 10_000;

/**
 * Started (or signalled, if running) by the webhook with signal-with-start: collects the changed keys, waits until no
 * event came for `quietMs` (or the burst is `maxDelayMs` old), then runs `sync` once for all of them. Events that
 * arrive during that sync are collected for the next one. Completes after `idleMs` without events.
 */
export async function syncOnEvents(rawInput: SyncOnEventsInput): Promise<SyncOnEventsStatus> {
  const input = validateWorkflowInput(syncOnEventsInputSchema, rawInput, 'syncOnEvents');
  const info = workflowInfo();
  const sourceIds = new Set(input.sync.sources.map((s) => s.id));

  /** sourceId → keys, or 'all' for the whole source. */
  const pending = new Map<string, Set<string> | 'all'>();
  const totals = { inserted: 0, updated: 0, deleted: 0, unchanged: 0, retained: 0, ...input.totalsBefore };
  const status: SyncOnEventsStatus = { syncs: input.syncsBefore, events: 0, pendingKeys: 0, phase: 'idle', totals };

  const add = (sourceId: string, keys: string[] | 'all') => {
    const cur = pending.get(sourceId);
    if (cur === 'all') return;
    if (keys === 'all') pending.set(sourceId, 'all');
    else {
      const set = cur ?? new Set<string>();
      for (const k of keys) set.add(k);
      if (set.size > 0) pending.set(sourceId, set);
    }
  };
  const pendingKeys = () => [...pending.values()].reduce((n, v) => n + (v === 'all' ? 1 : v.size), 0);
  for (const p of input.pending) add(p.sourceId, p.keys.length === 0 ? 'all' : p.keys);

  setHandler(objectsChangedSignal, (change: ObjectsChanged) => {
    if (!sourceIds.has(change.sourceId)) {
      log.warn('event for a source this collection does not have; ignored', { sourceId: change.sourceId });
      return;
    }
    status.events += 1;
    add(change.sourceId, change.keys);
  });
  setHandler(syncOnEventsStatusQuery, () => ({ ...status, pendingKeys: pendingKeys() }));

  // After the handlers: events that came with the start are taken in while the run asks its worker what to tag.
  const summary = `push sync of "${input.sync.collection}": waits for bucket events, then syncs ${sourcesPhrase(input.sync.sources)}`;
  await startVisibility({
    tags: { TwinflowPipeline: ['syncOnEvents'], TwinflowCollection: [input.sync.collection], TwinflowSource: [...sourceIds], TwinflowSourceType: uniq(input.sync.sources.map((s) => s.type)) },
    memo: { summary, input: { collection: input.sync.collection, sources: sourcesMemo(input.sync.sources), quietMs: input.quietMs, maxDelayMs: input.maxDelayMs, idleMs: input.idleMs } },
    details: summary,
  });

  let failures = 0;
  for (;;) {
    if (pending.size === 0) {
      status.phase = 'idle';
      if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > MAX_HISTORY_EVENTS) {
        await continueAsNew<typeof syncOnEvents>({ ...rawInput, pending: [], syncsBefore: status.syncs, totalsBefore: totals });
      }
      if (!(await condition(() => pending.size > 0, input.idleMs))) return { ...status, pendingKeys: 0 };
    }

    // Debounce: every event restarts the quiet period, up to maxDelayMs after the burst's first event.
    status.phase = 'debouncing';
    const burstStart = Date.now();
    for (;;) {
      const wait = Math.min(input.quietMs, burstStart + input.maxDelayMs - Date.now());
      if (wait <= 0) break;
      const seen = status.events;
      if (!(await condition(() => status.events !== seen, wait))) break;
    }

    const only: SyncScope[] = [...pending].map(([sourceId, keys]) =>
      keys === 'all' || keys.size > input.maxKeysPerSync ? { sourceId } : { sourceId, keys: [...keys].sort() },
    );
    pending.clear();
    status.phase = 'syncing';
    try {
      const result = await executeChild(sync, {
        workflowId: `${info.workflowId}--sync-${status.syncs + 1}`,
        args: [{ ...input.sync, only }],
      });
      status.lastResult = { documents: result.documents, chunks: result.chunks, failedSources: result.failedSources };
      for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += result.documents[k];
      status.lastError = undefined;
      failures = 0;
    } catch (err) {
      if (isCancellation(err)) throw err;
      status.lastError = errorMessage(err);
      const cause = (err as { cause?: unknown }).cause;
      const invalid = cause instanceof ApplicationFailure && cause.type === 'InvalidInput';
      if (!invalid) {
        // Nothing is lost: the keys go back and are synced after a pause (the nightly pull sync is the backstop).
        for (const o of only) add(o.sourceId, o.keys ?? 'all');
        failures += 1;
        const pause = Math.min(600_000, 5_000 * 2 ** Math.min(failures, 7));
        status.phase = 'backoff';
        status.retryAt = new Date(Date.now() + pause).toISOString();
        await sleep(pause);
        status.retryAt = undefined;
      }
    }
    status.syncs += 1;
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > MAX_HISTORY_EVENTS) {
      const carried = [...pending].map(([sourceId, keys]) => ({ sourceId, keys: keys === 'all' ? [] : [...keys] }));
      await continueAsNew<typeof syncOnEvents>({ ...rawInput, pending: carried, syncsBefore: status.syncs, totalsBefore: totals });
    }
  }
}
