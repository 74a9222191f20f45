/**
 * planSync: the run's manifest (every cleaned document with its contentHash) against the recorded state → what to do.
 *
 * - delta parts: the inserted and updated documents (CleanDocument JSON Lines, partSize per part), which go through
 *   chunk → embed → load like any cleaned part;
 * - deletions: the documents to remove from the vector store (their points and parents);
 * - the new state files, one per source, written now but named by the state pointer only after the load succeeded.
 *
 * Intent log: before any load, the docIds this sync inserts are written to state/<collection>/intent.json. If the sync
 * dies after loading some of them and a document vanishes from its source before the next sync, that sync finds the
 * docId in the intent but neither in the recorded state nor in the source, and deletes its orphaned points.
 */
import type { CleanDocument } from '../../lib/schemas/documents';
import type { PartRef } from '../../lib/schemas/ingest';
import type { DeletionsHeld, DocumentCounts, SourceStateRef, StateEntry, SyncSourceStatus, SyncSourceSummary } from '../../lib/schemas/sync';
import { s3DocId } from '../../lib/crawl/s3';
import type { CrawlIssue, ListingSummary } from '../../lib/schemas/ingest';
import type { Deps } from '../deps';
import type { DuplicateRef, ManifestEntry } from '../ingest/manifest';
import { elapsedSince } from '../parts';
import { type ContentMember, type DeletionGuard, diffSource, exceedsGuard, failedEntirely, holdByContent, type LocationReport, type SourceDiff } from './diff';
import { beat } from './heartbeat';
import { intentKey, readEntries, stateFileKey } from './state';

export interface PlanSource {
  sourceId: string;
  sourceType: string;
  /** crawled: diff it; failed: keep its state (the crawl failed as a whole); untouched: not part of this push sync. */
  status: 'crawled' | 'failed' | 'untouched';
  fetched: number;
  cleaned: number;
  failed: Record<string, number>;
  /** The crawl report: what each location said without a document (only GONE_REASONS delete). */
  reportUri?: string;
  /** The cleaning drops (junk, too short, duplicates...): fetched, but their stored version is kept. */
  dropReports?: string[];
  /** Whether the crawl listed the source completely; a stored document absent from an incomplete listing is kept. */
  listing?: ListingSummary;
  /** An s3 source synced for some keys only (push); bucket defaults to the artifact bucket, like the source's. */
  keys?: { bucket?: string; keys: string[] };
  error?: string;
}

export interface PlanInput {
  runKey: string;
  collection: string;
  owner: { workflowId: string; runId: string };
  manifestUri: string;
  /** The manifest's duplicates (DuplicateRef JSON): a duplicate never deletes or overwrites what it duplicates. */
  duplicatesUri?: string;
  previous: Record<string, SourceStateRef>;
  sources: PlanSource[];
  partSize: number;
  /** Pull: sources recorded before but no longer configured are removed (their documents deleted). */
  removeUnlisted: boolean;
  /** Deleting more of a source than this holds every deletion of the sync (see exceedsGuard). */
  deletionGuard: DeletionGuard;
  /** This run may delete past the guard (set by hand for one run, never by a schedule's default). */
  allowMassDeletion: boolean;
}

export interface DeletionRef {
  docId: string;
  sourceId: string;
  location: string;
}

export interface PlanOutput {
  deltaParts: PartRef[];
  deletionsUri: string;
  deletions: number;
  states: Record<string, SourceStateRef>;
  sources: SyncSourceSummary[];
  totals: DocumentCounts;
  /** Deletions the guard held back (nothing was deleted; the documents stay stored and recorded). */
  deletionsHeld?: DeletionsHeld;
  elapsedMs: number;
}

/**
 * The intent log: every document a sync is about to change in the store (insert, update, delete), written before the
 * first load. If that sync dies, the next one finds the store possibly ahead of the recorded state for exactly these
 * documents, and reconciles them whatever the source says now: present → loaded again; absent → deleted.
 */
interface Intent {
  owner: { workflowId: string; runId: string };
  /** Inserted. (The name predates updates and deletes; kept so that an older intent still reads.) */
  docIds: string[];
  updated?: string[];
  deleted?: string[];
}

const zero = (): DocumentCounts => ({ inserted: 0, updated: 0, deleted: 0, unchanged: 0, retained: 0 });
const emptyDiff = (): SourceDiff => ({ inserted: [], updated: [], deleted: [], unchanged: 0, retained: 0, keptBy: {}, next: [] });
const union = (a: string[] | undefined, b: string[]): string[] => [...new Set([...(a ?? []), ...b])];

/** The kept-by reason of held deletions (the others are crawl, cleaning and content reasons). */
const DELETIONS_HELD = 'deletions_held';

export function createPlanActivities(deps: Deps) {
  const { artifacts } = deps;
  return {
    async planSync(input: PlanInput): Promise<PlanOutput> {
      const started = performance.now();
      const { runKey, collection, owner } = input;

      // Current documents per source, and where each one's cleaned record is.
      const current = new Map<string, StateEntry[]>();
      const partOf = new Map<string, string>();
      const hashOf = new Map<string, string>();
      const sourceOf = new Map<string, string>();
      for await (const m of artifacts.readJsonl<ManifestEntry>(input.manifestUri)) {
        if (partOf.size % 1000 === 0) beat();
        let list = current.get(m.sourceId);
        if (!list) current.set(m.sourceId, (list = []));
        list.push({ docId: m.docId, contentHash: m.contentHash, location: m.location });
        partOf.set(m.docId, m.part);
        hashOf.set(m.docId, m.contentHash);
        sourceOf.set(m.docId, m.sourceId);
      }
      const currentDocIds = new Set(partOf.keys());

      // What each crawled source said about locations without a document, and the duplicates: docId → kept docId.
      const duplicateOf = new Map<string, string>();
      // (A document reached through two sources is a "duplicate" of itself: not a duplicate of another document.)
      for (const d of input.duplicatesUri ? await artifacts.getJson<DuplicateRef[]>(input.duplicatesUri) : []) {
        if (d.docId === d.keptDocId) continue;
        duplicateOf.set(d.docId, d.keptDocId);
        sourceOf.set(d.docId, d.sourceId);
      }
      const reportedBy = new Map<string, Map<string, LocationReport>>();
      for (const src of input.sources) {
        if (src.status !== 'crawled') continue;
        const reported = new Map<string, LocationReport>();
        reportedBy.set(src.sourceId, reported);
        const reports = [...(src.reportUri ? [src.reportUri] : []), ...(src.dropReports ?? [])];
        for (const uri of reports) {
          beat();
          for await (const issue of artifacts.readJsonl<CrawlIssue>(uri)) {
            if (issue.reason === 'duplicate' && issue.docId && issue.duplicateOf && issue.docId !== issue.duplicateOf) {
              duplicateOf.set(issue.docId, issue.duplicateOf);
              sourceOf.set(issue.docId, src.sourceId);
            } else reported.set(issue.location, { reason: issue.reason, detail: issue.detail });
          }
        }
      }

      const previousBy = new Map<string, StateEntry[]>();
      const previousHash = new Map<string, string>();
      for (const src of input.sources) {
        beat();
        const entries = await readEntries(artifacts, input.previous[src.sourceId]);
        previousBy.set(src.sourceId, entries);
        for (const e of entries) previousHash.set(e.docId, e.contentHash);
      }

      // Documents found now that must not replace their stored version: duplicates, and content that converged.
      /** The document a duplicate's content is kept under (following duplicates of duplicates). */
      const rootOf = (docId: string): string | undefined => {
        for (let id: string | undefined = docId, hops = 0; id !== undefined && hops < 64; id = duplicateOf.get(id), hops++) if (hashOf.has(id)) return id;
        return undefined;
      };
      const member = (docId: string, contentHash: string, kept: boolean): ContentMember => ({
        docId,
        sourceId: sourceOf.get(docId) ?? '',
        contentHash,
        previousHash: previousHash.get(docId),
        kept,
      });
      const members: ContentMember[] = [...hashOf].map(([docId, contentHash]) => member(docId, contentHash, true));
      /** Duplicates of a document of another source: two sources that index the same text (a repository and a folder). */
      const crossSource: Array<[docId: string, root: string]> = [];
      for (const docId of duplicateOf.keys()) {
        const root = rootOf(docId);
        if (root === undefined) continue;
        if (sourceOf.get(root) === sourceOf.get(docId)) members.push(member(docId, hashOf.get(root)!, false));
        else crossSource.push([docId, root]);
      }
      const keep = holdByContent(members);
      for (const [docId, root] of crossSource) {
        // The text lives on under the other source's document: this one's stored version goes, as a document its own
        // source no longer has distinct (one copy per text in a collection), unless that text is itself held.
        if (keep.get(root)?.reason === 'same_content') keep.set(docId, { reason: 'duplicate', contentHash: '' });
      }
      // A duplicate whose content could not be traced (its original was dropped too) keeps its stored version.
      for (const docId of duplicateOf.keys()) if (rootOf(docId) === undefined) keep.set(docId, { reason: 'duplicate', contentHash: '' });

      const summaries: SyncSourceSummary[] = [];
      const diffs = new Map<string, SourceDiff>();
      const listed = new Set(input.sources.map((s) => s.sourceId));

      for (const src of input.sources) {
        const prevRef = input.previous[src.sourceId];
        const previous = previousBy.get(src.sourceId) ?? [];
        const summary: SyncSourceSummary = {
          sourceId: src.sourceId,
          sourceType: src.sourceType,
          status: src.status === 'crawled' ? 'synced' : (src.status as SyncSourceStatus),
          fetched: src.fetched,
          cleaned: src.cleaned,
          ...zero(),
          ...(src.error ? { error: src.error } : {}),
        };
        summaries.push(summary);
        // A crawl of named keys (push) legitimately finds nothing when they were all deleted: not an outage.
        if (src.status === 'crawled' && !src.keys && failedEntirely(src.fetched, src.failed, previous.length)) {
          summary.status = 'failed';
          summary.error ??= `no document could be read (${Object.entries(src.failed).map(([k, v]) => `${k} ${v}`).join(', ')})`;
        }
        if (summary.status !== 'synced') {
          if (prevRef) diffs.set(src.sourceId, { ...emptyDiff(), next: previous });
          if (summary.status === 'failed') {
            summary.retained = previous.length;
            if (previous.length > 0) summary.kept = { source_failed: previous.length };
          }
          continue;
        }
        if (src.listing && !src.listing.complete) summary.listingGaps = src.listing.gaps;
        const bucket = src.keys?.bucket ?? artifacts.bucket;
        const scope = src.keys ? new Set(src.keys.keys.map((k) => s3DocId(bucket, k))) : undefined;
        diffs.set(
          src.sourceId,
          diffSource(previous, current.get(src.sourceId) ?? [], {
            reported: reportedBy.get(src.sourceId),
            listingComplete: src.listing?.complete ?? true,
            keep,
            scope,
          }),
        );
      }

      const toLoad = new Set<string>();
      for (const diff of diffs.values()) for (const e of [...diff.inserted, ...diff.updated]) toLoad.add(e.docId);
      // A document that moved to another source is deleted from one and inserted into the other: keep its points.
      const reallyDeleted = (e: { docId: string }) => !toLoad.has(e.docId) && !currentDocIds.has(e.docId);

      // Sources recorded before that this sync does not list (pull): all their documents go.
      const removed = new Map<string, StateEntry[]>();
      for (const [sourceId, ref] of Object.entries(input.previous)) {
        if (listed.has(sourceId)) continue;
        if (!input.removeUnlisted) {
          diffs.set(sourceId, { ...emptyDiff(), next: await readEntries(artifacts, ref) });
          continue;
        }
        removed.set(sourceId, await readEntries(artifacts, ref));
      }

      // The deletion guard: a sync that would delete too much of any source deletes nothing at all.
      const over: string[] = [];
      for (const src of input.sources) {
        const deleted = diffs.get(src.sourceId)?.deleted.filter(reallyDeleted).length ?? 0;
        if (exceedsGuard(deleted, previousBy.get(src.sourceId)?.length ?? 0, input.deletionGuard)) over.push(`${src.sourceId} (${deleted} of ${previousBy.get(src.sourceId)!.length})`);
      }
      for (const [sourceId, entries] of removed) {
        if (exceedsGuard(entries.filter(reallyDeleted).length, entries.length, input.deletionGuard)) over.push(`${sourceId} (no longer configured: all ${entries.length})`);
      }
      const hold = over.length > 0 && !input.allowMassDeletion;

      const deletions: DeletionRef[] = [];
      let held = 0;
      for (const src of input.sources) {
        const diff = diffs.get(src.sourceId);
        const summary = summaries.find((s) => s.sourceId === src.sourceId)!;
        if (!diff || summary.status !== 'synced') continue;
        const gone = diff.deleted.filter(reallyDeleted);
        if (hold && gone.length > 0) {
          // Held: the documents stay stored and recorded, so the next sync weighs them again.
          diff.next.push(...gone);
          diff.retained += gone.length;
          diff.keptBy[DELETIONS_HELD] = (diff.keptBy[DELETIONS_HELD] ?? 0) + gone.length;
          diff.deleted = diff.deleted.filter((e) => !reallyDeleted(e));
          held += gone.length;
        }
        for (const e of diff.deleted) deletions.push({ docId: e.docId, sourceId: src.sourceId, location: e.location });
        Object.assign(summary, { inserted: diff.inserted.length, updated: diff.updated.length, deleted: diff.deleted.filter(reallyDeleted).length, unchanged: diff.unchanged, retained: diff.retained });
        if (Object.keys(diff.keptBy).length > 0) summary.kept = diff.keptBy;
      }
      for (const [sourceId, entries] of removed) {
        const sourceType = input.previous[sourceId]!.sourceType;
        if (hold) {
          diffs.set(sourceId, { ...emptyDiff(), next: entries });
          held += entries.length;
          summaries.push({ sourceId, sourceType, status: 'removal_held', fetched: 0, cleaned: 0, ...zero(), retained: entries.length, kept: { [DELETIONS_HELD]: entries.length } });
        } else {
          for (const e of entries) deletions.push({ docId: e.docId, sourceId, location: e.location });
          summaries.push({ sourceId, sourceType, status: 'removed', fetched: 0, cleaned: 0, ...zero(), deleted: entries.filter(reallyDeleted).length });
        }
      }

      // The intent of a sync that died: its documents may be ahead of the recorded state in the store. Present now →
      // loaded again (an update or delete it made may have been reverted at the source); absent and not recorded →
      // its orphaned points are deleted.
      const staleIntent = await artifacts.getJsonIfExists<Intent>(intentKey(collection));
      if (staleIntent) {
        const recorded = new Set<string>();
        for (const diff of diffs.values()) for (const e of diff.next) recorded.add(e.docId);
        for (const docId of new Set([...staleIntent.docIds, ...(staleIntent.updated ?? []), ...(staleIntent.deleted ?? [])])) {
          if (currentDocIds.has(docId)) {
            if (!keep.has(docId) && recorded.has(docId)) toLoad.add(docId);
          } else if (!recorded.has(docId)) {
            deletions.push({ docId, sourceId: '', location: '(orphan of an unfinished sync)' });
          }
        }
      }

      const finalDeletions = dedupe(deletions.filter(reallyDeleted));
      const deletionsRef = await artifacts.putJson(`${runKey}/sync/deletions.json`, finalDeletions);
      const inserted = new Set([...diffs.values()].flatMap((d) => d.inserted.map((e) => e.docId)));
      const intent: Intent = {
        owner,
        docIds: union(staleIntent?.docIds, [...inserted]),
        updated: union(staleIntent?.updated, [...toLoad].filter((d) => !inserted.has(d))),
        deleted: union(staleIntent?.deleted, finalDeletions.map((d) => d.docId)),
      };
      await artifacts.putJson(intentKey(collection), intent);

      // The new state files, which nothing points to until the commit.
      const states: Record<string, SourceStateRef> = {};
      for (const [sourceId, diff] of diffs) {
        const sourceType = input.sources.find((s) => s.sourceId === sourceId)?.sourceType ?? input.previous[sourceId]!.sourceType;
        const changed = diff.inserted.length + diff.updated.length + diff.deleted.length > 0 || diff.retained > 0;
        const prevRef = input.previous[sourceId];
        const status = summaries.find((s) => s.sourceId === sourceId)?.status;
        if (prevRef && status !== 'synced' && !changed) {
          states[sourceId] = prevRef;
          continue;
        }
        const ref = await artifacts.putJsonl(stateFileKey(collection, owner.workflowId, owner.runId, sourceId), diff.next);
        states[sourceId] = { uri: ref.uri, documents: ref.count, sourceType };
      }

      const deltaParts = await writeDeltaParts(deps, runKey, toLoad, partOf, input.partSize);
      const totals = zero();
      for (const s of summaries) for (const k of Object.keys(totals) as Array<keyof DocumentCounts>) totals[k] += s[k];
      const deletionsHeld: DeletionsHeld | undefined = hold
        ? {
            documents: held,
            sources: over,
            reason: `deleting ${over.join(', ')} is more than the guard allows (over ${Math.round(input.deletionGuard.maxShare * 100)}% of a source and at least ${input.deletionGuard.minDocuments} documents): nothing was deleted; if these deletions are right, run this sync once with allowMassDeletion`,
          }
        : undefined;
      return {
        deltaParts,
        deletionsUri: deletionsRef.uri,
        deletions: finalDeletions.length,
        states,
        sources: summaries,
        totals,
        ...(deletionsHeld ? { deletionsHeld } : {}),
        elapsedMs: elapsedSince(started),
      };
    },

    /** Removes documents from the vector store: their points and their parent sections. */
    async deleteDocuments({ collection, deletionsUri }: { collection: string; deletionsUri: string }) {
      const started = performance.now();
      const store = await deps.vectorStore();
      const docIds = (await artifacts.getJson<DeletionRef[]>(deletionsUri)).map((d) => d.docId);
      let points = 0;
      for (let i = 0; i < docIds.length; i += 200) {
        beat();
        const batch = docIds.slice(i, i + 200);
        const filter = { must: [{ field: 'docId' as const, in: batch }] };
        points += await store.count(collection, filter);
        await store.deleteWhere(collection, filter);
        await store.deleteParentsOfDocs(collection, batch);
      }
      return { documents: docIds.length, points, elapsedMs: elapsedSince(started) };
    },
  };
}

function dedupe(list: DeletionRef[]): DeletionRef[] {
  const seen = new Set<string>();
  return list.filter((d) => (seen.has(d.docId) ? false : (seen.add(d.docId), true)));
}

/** Copies the documents to (re)load out of the cleaned parts into delta parts of `partSize` documents. */
async function writeDeltaParts(deps: Deps, runKey: string, docIds: Set<string>, partOf: Map<string, string>, partSize: number): Promise<PartRef[]> {
  const { artifacts } = deps;
  const parts = [...new Set([...docIds].map((d) => partOf.get(d)!))].sort();
  const out: PartRef[] = [];
  const written = new Set<string>();
  let batch: CleanDocument[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const ref = await artifacts.putJsonl(`${runKey}/delta/part-${String(out.length).padStart(5, '0')}.jsonl`, batch);
    out.push({ uri: ref.uri, count: ref.count });
    batch = [];
  };
  for (const part of parts) {
    beat();
    for await (const doc of artifacts.readJsonl<CleanDocument>(part)) {
      // The manifest names the one part a document counts from (a docId seen twice is a duplicate elsewhere).
      if (!docIds.has(doc.docId) || partOf.get(doc.docId) !== part || written.has(doc.docId)) continue;
      written.add(doc.docId);
      batch.push(doc);
      if (batch.length >= partSize) await flush();
    }
  }
  await flush();
  return out;
}
