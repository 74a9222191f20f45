/**
 * What a run shows in the Temporal Web UI: search attributes (find runs by pipeline, collection, source, model,
 * dataset), a memo with the input's summary, the "current details" line, and one readable summary per activity.
 *
 * Search attributes: a server rejects a workflow task that upserts one it does not know, and the run then hangs (the
 * task is retried for ever; workflow code cannot catch it). So a run first asks its worker, through the local
 * activity `twinflowSearchAttributes` (workers/search-attributes.ts), which ones the namespace has, and upserts only
 * those. The answer is recorded in history (a local-activity marker): every replay decides the same way on any
 * worker, even after someone registers the attributes mid-run.
 *
 * Runs started before this code replay exactly what they did then (no `patched()` marker in their history: the old
 * unconditional upsert, no memo). A run that was stuck on BadSearchAttributes under the old code never completed the
 * task that upserts, so its next task runs this code fresh and takes the new path: it finishes too.
 */
import {
  type ActivityInterfaceFor,
  type ActivityOptions,
  patched,
  proxyLocalActivities,
  scheduleActivity,
  setCurrentDetails,
  upsertMemo,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { SourceConfig } from '../lib/schemas/sources';
import type { SearchAttributeName, VisibilityActivities } from '../workers/search-attributes';
import { SEARCH_ATTRIBUTES_LOCAL_ACTIVITY } from './policies';

/** The patch id of search attributes filtered by availability, the memo and train/child tags. */
export const VISIBILITY_PATCH = 'twinflow-visibility';

export type Tags = Partial<Record<SearchAttributeName, string[]>>;

export interface Visibility {
  /** Whether this run took the new path (false: a run started before it, replaying the old behaviour). */
  readonly patched: boolean;
  /** Upserts tags: on the new path only those the namespace has; on the old path as the old code did. */
  tag(tags: Tags): void;
}

const { twinflowSearchAttributes } = proxyLocalActivities<VisibilityActivities>(SEARCH_ATTRIBUTES_LOCAL_ACTIVITY);

function legacyUpsert(tags: Tags): void {
  try {
    upsertSearchAttributes(tags as Record<string, string[]>);
  } catch {
    // The old code's guard (it never caught the server's rejection, only local validation errors).
  }
}

/**
 * Tags the run at its start. `legacy` is what the code before this patch upserted at this very point (undefined:
 * nothing); the old path repeats exactly that.
 */
export async function startVisibility(o: { tags: Tags; memo: Record<string, unknown>; details: string; legacy?: Tags }): Promise<Visibility> {
  // Not a command (answered through the metadata query): safe on either path.
  setCurrentDetails(o.details);
  if (!patched(VISIBILITY_PATCH)) {
    if (o.legacy) legacyUpsert(o.legacy);
    return { patched: false, tag: legacyUpsert };
  }
  let available: ReadonlySet<string>;
  try {
    available = new Set(await twinflowSearchAttributes());
  } catch {
    // A worker that cannot answer: no tags is always safe.
    available = new Set();
  }
  const tag = (tags: Tags) => {
    const usable = Object.fromEntries(Object.entries(tags).filter(([name, values]) => available.has(name) && values !== undefined && values.length > 0));
    if (Object.keys(usable).length > 0) upsertSearchAttributes(usable as Record<string, string[]>);
  };
  tag(o.tags);
  upsertMemo(o.memo);
  return { patched: true, tag };
}

// ---- input summaries (memo, details) ----

/** user:password@ in a URL is never shown (the memo is indexed by the visibility store). */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, '$1***@');
}

const MAX_SOURCES_IN_MEMO = 20;

/** Where a source reads from, in a few words: `https://a.example/sitemap.xml (+2)`, `/home/me/notes`. */
export function sourceTarget(s: SourceConfig): string {
  switch (s.type) {
    case 'web': {
      const all = [...(s.urls ?? []), ...(s.sitemaps ?? []), ...(s.feeds ?? [])];
      return `${redactUrl(all[0] ?? '')}${all.length > 1 ? ` (+${all.length - 1})` : ''}`;
    }
    case 'git':
      return redactUrl(s.url);
    case 'folder':
      return s.path;
    case 's3':
      return `s3://${s.bucket ?? '(artifact bucket)'}/${s.prefix}`;
  }
}

export function sourcesMemo(sources: readonly SourceConfig[]): Array<{ id: string; type: string; target: string }> {
  return sources.slice(0, MAX_SOURCES_IN_MEMO).map((s) => ({ id: s.id, type: s.type, target: sourceTarget(s) }));
}

export function sourcesPhrase(sources: readonly SourceConfig[]): string {
  const named = sources.slice(0, 3).map((s) => `${s.type} "${s.id}"`);
  return `${sources.length} source${sources.length === 1 ? '' : 's'} (${named.join(', ')}${sources.length > 3 ? ', …' : ''})`;
}

export const uniq = (values: readonly string[]): string[] => [...new Set(values)];

// ---- activity summaries ----

type Arg = Record<string, unknown> | undefined;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const part = (a: Arg) => (num(a?.partIndex) !== undefined ? ` part ${num(a?.partIndex)! + 1}` : '');

/** One readable line per activity type, from its input; unknown types show their name. */
const SUMMARIES: Record<string, (a: Arg) => string> = {
  crawlSource: (a) => {
    const s = a?.source as SourceConfig | undefined;
    return s ? `crawl ${s.type} source "${s.id}": ${sourceTarget(s)}` : 'crawl a source';
  },
  cleanPart: (a) => `clean${part(a)} of source "${str(a?.sourceId) ?? '?'}"`,
  prepareCollection: (a) => `prepare collection "${str(a?.collection) ?? '?'}"`,
  buildManifest: (a) => `drop duplicates across ${Array.isArray(a?.cleanedParts) ? a.cleanedParts.length : 0} cleaned parts`,
  chunkPart: (a) => `chunk${part(a)}`,
  embedPart: (a) => `embed${part(a)}`,
  loadPart: (a) => `load into "${str(a?.collection) ?? '?'}"`,
  publishCollection: (a) => `point "${str(a?.alias) ?? '?'}" at ${str(a?.physical) ?? '?'}`,
  writeRunReport: () => 'write the run report',
  acquireSyncLock: (a) => `lock collection "${str(a?.collection) ?? '?'}"`,
  releaseSyncLock: (a) => `unlock collection "${str(a?.collection) ?? '?'}"`,
  resolveIndex: (a) => `resolve the index of "${str(a?.collection) ?? '?'}"`,
  planSync: (a) => `diff ${Array.isArray(a?.sources) ? a.sources.length : 0} sources against the recorded state of "${str(a?.collection) ?? '?'}"`,
  deleteDocuments: (a) => `delete what disappeared from "${str(a?.collection) ?? '?'}"`,
  commitSyncState: (a) => `commit the sync state of "${str(a?.collection) ?? '?'}"`,
  trainRuntime: () => 'look up the GPU task queue',
  loadDataset: (a) => `load dataset ${str(a?.manifestUri) ?? ''}`.trim(),
  buildDataset: (a) => `build dataset "${str((a?.spec as Arg)?.name) ?? '?'}"`,
  fineTune: (a) => `fine-tune ${str(a?.baseModel) ?? 'the base model'}${(a?.training as Arg)?.quantization === '4bit' ? ' (QLoRA)' : ' (LoRA)'}`,
  runBaseline: (a) => `baseline ${str((a?.baseline as Arg)?.name) ?? str((a?.baseline as Arg)?.model) ?? ''}`.trim(),
  generatePredictions: (a) => `generate test answers with ${str(a?.modelName) ?? 'the fine-tuned model'}`,
  evaluatePredictions: (a) => `score ${str(a?.modelName) ?? 'the predictions'}`,
  writeReport: (a) => `write the report of "${str(a?.name) ?? '?'}"`,
  publishModel: (a) => `publish to ${str((a?.publish as Arg)?.repo) ?? 'the Hub'} if it passes`,
  prepareRetrievalEval: (a) => `split ${str(a?.queries) ?? 'the queries'} into batches`,
  evalRetrievalBatch: (a) => `evaluate batch ${(num(a?.index) ?? 0) + 1}`,
  finishRetrievalEval: (a) => `merge ${Array.isArray(a?.resultUris) ? a.resultUris.length : 0} batch results`,
  probeArtifactStore: () => 'write and read back a probe object in S3',
};

const MAX_SUMMARY = 200;

export function activitySummary(activityType: string, args: readonly unknown[]): string {
  const f = SUMMARIES[activityType];
  let text = activityType;
  if (f) {
    try {
      text = f(args[0] as Arg);
    } catch {
      // A summary is a label: never let it fail the workflow.
    }
  }
  return text.length > MAX_SUMMARY ? `${text.slice(0, MAX_SUMMARY - 1)}…` : text;
}

/**
 * proxyActivities, with each call's readable summary in its user metadata (the UI shows it on the event and in the
 * timeline). Same commands as proxyActivities: one ScheduleActivityTask per call, same options otherwise.
 */
export function proxySummarizedActivities<A extends object>(options: ActivityOptions): ActivityInterfaceFor<A> {
  return new Proxy({} as ActivityInterfaceFor<A>, {
    get(_, activityType) {
      if (typeof activityType !== 'string') throw new TypeError(`Only strings are supported for Activity types, got: ${String(activityType)}`);
      return (...args: unknown[]) => scheduleActivity(activityType, args, { ...options, summary: activitySummary(activityType, args) });
    },
  });
}
