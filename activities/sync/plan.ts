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
import type { DocumentCounts, SourceStateRef, StateEntry, SyncSourceStatus, SyncSourceSummary } from '../../lib/schemas/sync';
import { s3DocId } from '../../lib/crawl/s3';
import type { CrawlIssue } from '../../lib/schemas/ingest';
import type { Deps } from '../deps';
import type { ManifestEntry } from '../ingest/manifest';
import { elapsedSince } from '../parts';
import { diffSource, failedEntirely } from './diff';
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
  /** The crawl report (failed locations are retained, not deleted). */
  reportUri?: string;
  /** An s3 source synced for some keys only (push); bucket defaults to the artifact bucket, like the source's. */
  keys?: { bucket?: string; keys: string[] };
  error?: string;
}

export interface PlanInput {
  runKey: string;
  collection: string;
  owner: { workflowId: string; runId: string };
  manifestUri: string;
  previous: Record<string, SourceStateRef>;
  sources: PlanSource[];
  partSize: number;
  /** Pull: sources recorded before but no longer configured are removed (their documents deleted). */
  removeUnlisted: boolean;
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
  elapsedMs: number;
}

interface Intent {
  owner: { workflowId: string; runId: string };
  docIds: string[];
}

const zero = (): DocumentCounts => ({ inserted: 0, updated: 0, deleted: 0, unchanged: 0, retained: 0 });

export function createPlanActivities(deps: Deps) {
  const { artifacts } = deps;
  return {
    async planSync(input: PlanInput): Promise<PlanOutput> {
      const started = performance.now();
      const { runKey, collection, owner } = input;

      // Current documents per source, and where each one's cleaned record is.
      const current = new Map<string, StateEntry[]>();
      const partOf = new Map<string, string>();
      for await (const m of artifacts.readJsonl<ManifestEntry>(input.manifestUri)) {
        if (partOf.size % 1000 === 0) beat();
        let list = current.get(m.sourceId);
        if (!list) current.set(m.sourceId, (list = []));
        list.push({ docId: m.docId, contentHash: m.contentHash, location: m.location });
        partOf.set(m.docId, m.part);
      }
      const currentDocIds = new Set(partOf.keys());

      const states: Record<string, SourceStateRef> = {};
      const summaries: SyncSourceSummary[] = [];
      const toLoad = new Set<string>();
      const inserted: string[] = [];
      const deletions: DeletionRef[] = [];
      const listed = new Set(input.sources.map((s) => s.sourceId));

      for (const src of input.sources) {
        const prevRef = input.previous[src.sourceId];
        const summary: SyncSourceSummary = {
          sourceId: src.sourceId,
          sourceType: src.sourceType,
          status: src.status === 'crawled' ? 'synced' : (src.status as SyncSourceStatus),
          fetched: src.fetched,
          cleaned: src.cleaned,
          ...zero(),
          ...(src.error ? { error: src.error } : {}),
        };
        beat();
        const previous = await readEntries(artifacts, prevRef);
        // A crawl of named keys (push) legitimately finds nothing when they were all deleted: not an outage.
        if (src.status === 'crawled' && !src.keys && failedEntirely(src.fetched, src.failed, previous.length)) {
          summary.status = 'failed';
          summary.error ??= `no document could be read (${Object.entries(src.failed).map(([k, v]) => `${k} ${v}`).join(', ')})`;
        }
        if (summary.status !== 'synced') {
          if (prevRef) states[src.sourceId] = prevRef;
          if (summary.status === 'failed') summary.retained = previous.length;
          summaries.push(summary);
          continue;
        }
        const failedLocations = new Set<string>();
        if (src.reportUri) {
          for await (const issue of artifacts.readJsonl<CrawlIssue>(src.reportUri)) {
            if (issue.kind === 'failed' && issue.reason !== 'not_found') failedLocations.add(issue.location);
          }
        }
        const bucket = src.keys?.bucket ?? artifacts.bucket;
        const scope = src.keys ? new Set(src.keys.keys.map((k) => s3DocId(bucket, k))) : undefined;
        const diff = diffSource(previous, current.get(src.sourceId) ?? [], { failedLocations, scope });
        for (const e of diff.inserted) {
          toLoad.add(e.docId);
          inserted.push(e.docId);
        }
        for (const e of diff.updated) toLoad.add(e.docId);
        for (const e of diff.deleted) deletions.push({ docId: e.docId, sourceId: src.sourceId, location: e.location });
        Object.assign(summary, { inserted: diff.inserted.length, updated: diff.updated.length, deleted: diff.deleted.length, unchanged: diff.unchanged, retained: diff.retained });
        const ref = await artifacts.putJsonl(stateFileKey(collection, owner.workflowId, owner.runId, src.sourceId), diff.next);
        states[src.sourceId] = { uri: ref.uri, documents: ref.count, sourceType: src.sourceType };
        summaries.push(summary);
      }

      // Sources recorded before that this sync does not list.
      for (const [sourceId, ref] of Object.entries(input.previous)) {
        if (listed.has(sourceId)) continue;
        if (!input.removeUnlisted) {
          states[sourceId] = ref;
          continue;
        }
        const previous = await readEntries(artifacts, ref);
        for (const e of previous) deletions.push({ docId: e.docId, sourceId, location: e.location });
        summaries.push({ sourceId, sourceType: ref.sourceType, status: 'removed', fetched: 0, cleaned: 0, ...zero(), deleted: previous.length });
      }

      // Orphans of a sync that died after inserting: in its intent, but neither recorded nor current.
      const recorded = new Set<string>();
      const staleIntent = await artifacts.getJsonIfExists<Intent>(intentKey(collection));
      if (staleIntent && staleIntent.docIds.length > 0) {
        for (const ref of Object.values(states)) for (const e of await readEntries(artifacts, ref)) recorded.add(e.docId);
        for (const docId of staleIntent.docIds) {
          if (!currentDocIds.has(docId) && !recorded.has(docId)) deletions.push({ docId, sourceId: '', location: '(orphan of an unfinished sync)' });
        }
      }

      // A document that moved to another source is deleted from one and inserted into the other: keep its points.
      const finalDeletions = dedupe(deletions.filter((d) => !toLoad.has(d.docId) && !currentDocIds.has(d.docId)));
      const deletionsRef = await artifacts.putJson(`${runKey}/sync/deletions.json`, finalDeletions);
      await artifacts.putJson(intentKey(collection), { owner, docIds: [...new Set([...(staleIntent?.docIds ?? []), ...inserted])] } satisfies Intent);

      const deltaParts = await writeDeltaParts(deps, runKey, toLoad, partOf, input.partSize);
      const totals = zero();
      for (const s of summaries) for (const k of Object.keys(totals) as Array<keyof DocumentCounts>) totals[k] += s[k];
      return { deltaParts, deletionsUri: deletionsRef.uri, deletions: finalDeletions.length, states, sources: summaries, totals, elapsedMs: elapsedSince(started) };
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
