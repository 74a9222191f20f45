/**
 * Change data capture: the `sync` workflow's input and result, the state it records in S3, the index identity that
 * decides when a full rebuild is due, the push debouncer's input, and the nightly schedule's configuration.
 * Workflow code imports this file: zod only, no side effects, no Node built-ins.
 */
import { z } from 'zod';
import { type ChunkingOptions, checkUniqueSourceIds, pipelineInputBaseSchema } from './ingest';
import { sourceIdSchema } from './sources';

/** Limits one push sync to some sources, and for an s3 source to some object keys (the keys events named). */
export const syncScopeSchema = z
  .object({
    sourceId: sourceIdSchema,
    /** Object keys of an s3 source; absent: the whole source. */
    keys: z.array(z.string().min(1, 'must not be empty')).min(1).max(1000, 'at most 1000 keys per sync: sync the whole source instead').optional(),
  })
  .strict();
export type SyncScope = z.output<typeof syncScopeSchema>;

export const deletionGuardSchema = z
  .object({
    maxShare: z.number().min(0).max(1).default(0.2),
    minDocuments: z.number().int().min(1).default(3),
  })
  .strict();

/** The ingest input's fields (pipelineInputBaseSchema), plus `only` (set by push) and the deletion guard. */
export const syncInputSchema = pipelineInputBaseSchema
  .extend({
    /**
     * Push syncs: process only these sources (and keys); every other source's documents stay as they are. Without it
     * (pull), `sources` is the collection's complete list: documents of a source no longer listed are deleted.
     */
    only: z.array(syncScopeSchema).min(1).optional(),
    /**
     * The deletion guard (like rsync's --max-delete): a sync that would delete more than `maxShare` of a source's
     * stored documents, and at least `minDocuments` of them, deletes nothing at all and reports "deletions held".
     */
    deletionGuard: deletionGuardSchema.prefault({}),
    /** Let this one run delete past the guard (after checking that the deletions are right). */
    allowMassDeletion: z.boolean().default(false),
  })
  .superRefine((input, ctx) => {
    const byId = checkUniqueSourceIds(input.sources, ctx);
    input.only?.forEach((scope, i) => {
      const type = byId.get(scope.sourceId);
      if (!type) ctx.addIssue({ code: 'custom', message: `no source with id ${JSON.stringify(scope.sourceId)} in sources`, path: ['only', i, 'sourceId'] });
      else if (scope.keys && type !== 's3') ctx.addIssue({ code: 'custom', message: `keys apply to s3 sources only; ${scope.sourceId} is a ${type} source`, path: ['only', i, 'keys'] });
    });
  });
export type SyncInput = z.input<typeof syncInputSchema>;
export type SyncParams = z.output<typeof syncInputSchema>;

// ---- index identity: what the vectors in a physical collection were made with ----

/** Everything that makes existing vectors unusable when it changes. Cleaning settings are not in it: they only change
 * which documents and texts come out, which the diff handles document by document. */
export interface IndexIdentity {
  model: string;
  dimension: number;
  chunking: ChunkingOptions;
}

/** Length of the identity hash in physical collection names. */
export const IDENTITY_HASH_CHARS = 10;

/**
 * The physical collection behind the user-facing name (an alias) for one index identity: `<name>__<hash>`. Ingest and
 * sync both name collections through this, so they agree on where vectors of a given identity live.
 */
export function physicalCollectionName(collection: string, identityHash: string): string {
  if (!/^[0-9a-f]+$/.test(identityHash) || identityHash.length < IDENTITY_HASH_CHARS) throw new Error(`not an identity hash: ${identityHash}`);
  return `${collection}__${identityHash.slice(0, IDENTITY_HASH_CHARS)}`;
}

/** Whether `name` is one of the physical collections of `collection` (any identity). */
export function isPhysicalCollectionOf(collection: string, name: string): boolean {
  return name.startsWith(`${collection}__`) && new RegExp(`^[0-9a-f]{${IDENTITY_HASH_CHARS}}$`).test(name.slice(collection.length + 2));
}

// ---- the recorded state ----

/** One line of a source's state file: what the last successful sync loaded for a document. */
export interface StateEntry {
  docId: string;
  contentHash: string;
  location: string;
}

export interface SourceStateRef {
  /** JSON Lines of StateEntry. */
  uri: string;
  documents: number;
  sourceType: string;
}

/** `state/<collection>/current.json`: replaced in one PUT once a sync's load has succeeded. */
export const syncStateSchema = z.object({
  version: z.literal(1),
  collection: z.string(),
  physical: z.string(),
  identity: z.object({ hash: z.string(), model: z.string(), dimension: z.number(), chunking: z.record(z.string(), z.number()) }),
  run: z.object({ workflowId: z.string(), runId: z.string() }),
  /** The fencing token of the lock under which this state was committed (absent before fencing). */
  fence: z.number().int().optional(),
  sources: z.record(z.string(), z.object({ uri: z.string(), documents: z.number().int().nonnegative(), sourceType: z.string() })),
});
export type SyncState = z.output<typeof syncStateSchema>;

export function stateDir(collection: string): string {
  return `state/${collection}`;
}
export function statePointerKey(collection: string): string {
  return `${stateDir(collection)}/current.json`;
}
export function syncLockKey(collection: string): string {
  return `${stateDir(collection)}/lock.json`;
}
/** The last fencing token drawn for the collection's lock (see activities/sync/lock.ts). */
export function fenceKey(collection: string): string {
  return `${stateDir(collection)}/fence.json`;
}

// ---- results ----

export interface DocumentCounts {
  inserted: number;
  updated: number;
  deleted: number;
  unchanged: number;
  /**
   * Stored documents the crawl did not confirm but that are not positively gone (a failure, junk, a duplicate, an
   * incomplete listing, deletions held by the guard): their previous version stays loaded and recorded.
   */
  retained: number;
}

/** The deletion guard held this sync's deletions back: nothing was deleted. */
export interface DeletionsHeld {
  documents: number;
  /** The sources over the guard, with their counts. */
  sources: string[];
  reason: string;
}

export type SyncSourceStatus =
  /** Crawled and diffed. */
  | 'synced'
  /** Nothing could be read (site down, clone failed): its previous state is kept, nothing of it is deleted. */
  | 'failed'
  /** Not part of this (push) sync: left as it was. */
  | 'untouched'
  /** In the recorded state but no longer configured: its documents were deleted. */
  | 'removed'
  /** No longer configured, but the deletion guard held the removal back: its documents stay. */
  | 'removal_held';

export interface SyncSourceSummary extends DocumentCounts {
  sourceId: string;
  sourceType: string;
  status: SyncSourceStatus;
  fetched: number;
  cleaned: number;
  /** Why the source failed, when it did. */
  error?: string;
  /** `retained` by reason (e.g. network_error, bot_challenge, too_short, duplicate, not_listed, deletions_held). */
  kept?: Record<string, number>;
  /** Why the listing was incomplete this time (then documents missing from it were kept, not deleted). */
  listingGaps?: string[];
}

export interface SyncResult {
  /** The user-facing name (an alias). */
  collection: string;
  /** The physical collection the alias points to after this sync. */
  physicalCollection: string;
  /** True when the index identity changed (or no index existed) and this sync built a new physical collection. */
  rebuilt: boolean;
  /** The physical collection dropped after the switch-over, if any. */
  droppedCollection?: string;
  documents: DocumentCounts;
  chunks: { embedded: number; reused: number; written: number; deleted: number };
  sources: SyncSourceSummary[];
  failedSources: string[];
  /** 'deletions_held': the guard held the deletions back (see deletionsHeld); nothing was deleted. */
  status: 'ok' | 'deletions_held';
  deletionsHeld?: DeletionsHeld;
  /** The state pointer written by this sync. */
  state: string;
  report: string;
  timings: Record<string, number>;
}

export interface SyncProgress {
  phase: 'lock' | 'resolve' | 'crawl' | 'diff' | 'load' | 'delete' | 'commit' | 'done';
  parts: { total: number; loaded: number };
  documents?: DocumentCounts;
  chunks: { embedded: number; reused: number; written: number };
  /** Set once the plan held the deletions back. */
  deletionsHeld?: DeletionsHeld;
}

// ---- push: the per-collection debouncer ----

export const objectsChangedSignalName = 'objectsChanged';
export interface ObjectsChanged {
  sourceId: string;
  keys: string[];
}

export const syncOnEventsInputSchema = z
  .object({
    /** The collection's sync configuration (the same file as the pull sync). */
    sync: syncInputSchema,
    /** A burst is over when no event came for this long. */
    quietMs: z.number().int().min(0).max(600_000).default(2000),
    /** ...or when its first event is this old, so a steady trickle still gets synced. */
    maxDelayMs: z.number().int().min(0).max(3_600_000).default(30_000),
    /** With nothing pending for this long, the workflow completes; the next event starts a new one. */
    idleMs: z.number().int().min(0).max(86_400_000).default(300_000),
    /** More pending keys than this for one source: sync the whole source instead of listing keys. */
    maxKeysPerSync: z.number().int().min(1).max(1000).default(500),
    /** Carried over by continue-as-new. */
    pending: z.array(z.object({ sourceId: z.string(), keys: z.array(z.string()) })).default([]),
    syncsBefore: z.number().int().min(0).default(0),
    /** Carried over by continue-as-new: the document counts of the syncs before. */
    totalsBefore: z
      .object({ inserted: z.number().int().min(0), updated: z.number().int().min(0), deleted: z.number().int().min(0), unchanged: z.number().int().min(0), retained: z.number().int().min(0) })
      .optional(),
  })
  .strict();
export type SyncOnEventsInput = z.input<typeof syncOnEventsInputSchema>;

export interface SyncOnEventsStatus {
  syncs: number;
  events: number;
  pendingKeys: number;
  /** 'backoff': the last sync failed; its keys are pending again and the next try is at `retryAt`. */
  phase: 'idle' | 'debouncing' | 'syncing' | 'backoff';
  /** The document counts summed over every sync this debouncer ran (a burst may be split over several syncs). */
  totals: DocumentCounts;
  lastResult?: Pick<SyncResult, 'documents' | 'chunks' | 'failedSources'>;
  lastError?: string;
  /** When the next try of a failed sync starts (ISO time), while in 'backoff'. */
  retryAt?: string;
}

export function syncOnEventsWorkflowId(collection: string): string {
  return `sync-events--${collection}`;
}

// ---- the nightly schedule ----

/** A Temporal duration: a number and a unit (ms, s, m, h, d), e.g. "90s", "6h". */
export const durationSchema = z
  .string()
  .regex(/^\d+(\.\d+)?\s*(ms|s|m|h|d)$/, 'expected a duration such as "30s", "15m", "6h" or "1d"');

export function durationToMs(d: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(d);
  if (!m) throw new Error(`not a duration: ${JSON.stringify(d)}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Math.round(Number(m[1]) * unit);
}

export const DEFAULT_SYNC_CRON = '0 2 * * *';

export const syncScheduleSchema = z
  .object({
    /** Schedule id; default `sync-<collection>`. */
    id: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/, 'expected letters, digits, ".", "_" or "-"')
      .optional(),
    /** Five-field cron expression (minute hour day-of-month month day-of-week) or @daily/@hourly/@weekly/@monthly. */
    cron: z.string().min(1).default(DEFAULT_SYNC_CRON),
    /** IANA time zone the cron is read in. */
    timeZone: z.string().min(1).default('UTC'),
    /** Runs missed while the server was down are still started if they are at most this late. */
    catchupWindow: durationSchema.default('6h'),
    /** Each run starts up to this much later than its cron time (spreads load). */
    jitter: durationSchema.default('0s'),
    /** A run is stopped after this long; must be shorter than the interval. Default: 90% of the shortest interval, at most 23h. */
    executionTimeout: durationSchema.optional(),
    /** Create paused, or pause/unpause on apply; absent: leave as it is. */
    paused: z.boolean().optional(),
    note: z.string().max(1000).optional(),
    /** Task queue of the started syncs (default: the configured CPU queue). */
    taskQueue: z.string().min(1).optional(),
    sync: syncInputSchema,
  })
  .strict();
export type SyncScheduleConfig = z.input<typeof syncScheduleSchema>;
export type SyncScheduleParams = z.output<typeof syncScheduleSchema>;

export function defaultScheduleId(collection: string): string {
  return `sync-${collection}`;
}
