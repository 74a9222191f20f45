/**
 * Load: chunks + vectors → the vector store, idempotently. Point ids are derived from docId and chunk index, so a
 * re-load upserts in place; chunks a document no longer has (it got shorter) are deleted after the upsert, so
 * search never sees a document with no chunks.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { ChunkingOptions, PartRef } from '../../lib/schemas/ingest';
import type { ParentRecord, Point } from '../../lib/vectorstore/types';
import type { ChunkRecord, DocChunkCount } from '../chunk';
import type { Deps } from '../deps';
import type { VectorRecord } from '../embed';
import { elapsedSince } from '../parts';
import { publishCollection, resolveCollection } from '../sync/collection';
import { heartbeatWhile } from '../sync/heartbeat';

const UPSERT_BATCH = 256;

export interface LoadInput {
  collection: string;
  chunksPart: PartRef;
  parentsPart: PartRef;
  vectorsPart: PartRef;
  /** URI of the DocChunkCount[] of this part. */
  docIds: string;
}

export function createLoadActivities(deps: Deps) {
  const { artifacts } = deps;
  return {
    /**
     * Creates the collection for the configured embedder; a dimension mismatch is a non-retryable error.
     * With `chunking`, `collection` is the user-facing name (an alias) and the vectors go into the physical collection
     * of the index identity (model + chunking, see activities/sync/collection.ts), the one sync uses too; the caller
     * publishes it with publishCollection once loaded.
     */
    async prepareCollection({ collection, chunking, sourceIds }: { collection: string; chunking?: ChunkingOptions; sourceIds?: string[] }) {
      if (chunking) {
        const resolved = await resolveCollection(deps, collection, chunking);
        if (sourceIds && resolved.live !== resolved.physical) await refuseToDropOtherSources(deps, collection, resolved.live, sourceIds);
        return { name: resolved.physical, dimension: resolved.identity.dimension, model: resolved.identity.model, alias: collection, live: resolved.live };
      }
      const [store, embedder] = await Promise.all([deps.vectorStore(), deps.cachedEmbedder()]);
      try {
        await store.ensureCollection(collection, { dimension: embedder.dimension, distance: 'cosine' });
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (/dimension/i.test(message)) {
          throw ApplicationFailure.nonRetryable(
            `collection ${collection} was built with another embedding size than ${embedder.modelId} (${embedder.dimension}): ${message}. Use another collection name or run a sync, which rebuilds on a model change.`,
            'DimensionMismatch',
          );
        }
        throw err;
      }
      return { name: collection, dimension: embedder.dimension, model: embedder.modelId, alias: undefined, live: undefined };
    },

    /** Points the alias at a physical collection once it is complete (no-op if it already does); drops the old one. */
    async publishCollection({ alias, physical }: { alias: string; physical: string }) {
      return publishCollection(deps, alias, physical);
    },

    async loadPart({ collection, chunksPart, parentsPart, vectorsPart, docIds }: LoadInput) {
      const started = performance.now();
      const ctx = Context.current();
      const [store, embedder] = await Promise.all([deps.vectorStore(), deps.cachedEmbedder()]);
      const vectors = artifacts.readJsonl<VectorRecord>(vectorsPart.uri)[Symbol.asyncIterator]();
      let batch: Point[] = [];
      let written = 0;
      const flush = async () => {
        if (batch.length === 0) return;
        // A write may also fold rows into the store's indexes or rebuild its vector index (LanceDB): keep beating.
        await heartbeatWhile(store.upsert(collection, batch), 10_000, { written });
        written += batch.length;
        batch = [];
        ctx.heartbeat({ written });
      };
      for await (const chunk of artifacts.readJsonl<ChunkRecord>(chunksPart.uri)) {
        const next = await vectors.next();
        if (next.done || next.value.id !== chunk.id) {
          // Parts are written in the same order by chunk and embed; anything else is a corrupted run, not a retry case.
          throw ApplicationFailure.nonRetryable(`vectors part ${vectorsPart.uri} does not match chunks part ${chunksPart.uri} at ${chunk.id}`, 'CorruptPart');
        }
        batch.push({ id: chunk.id, vector: next.value.vector, text: chunk.text, payload: { ...chunk.payload, model: embedder.modelId } });
        if (batch.length >= UPSERT_BATCH) await flush();
      }
      await flush();

      const counts = await artifacts.getJson<DocChunkCount[]>(docIds);
      const parents = await artifacts.readAllJsonl<ParentRecord>(parentsPart.uri);
      const deletedStale = await heartbeatWhile(deleteStaleChunks(deps, collection, counts), 10_000, { written });
      if (counts.length > 0) {
        await heartbeatWhile(
          store.deleteParentsOfDocs(
            collection,
            counts.map((c) => c.docId),
          ),
          10_000,
          { written },
        );
      }
      if (parents.length > 0) await heartbeatWhile(store.upsertParents(collection, parents), 10_000, { written });
      return { written, deletedStale, documents: counts.length, elapsedMs: elapsedSince(started) };
    },
  };
}

/** Deletes points of these documents whose chunk index is beyond the document's current chunk count. */
export async function deleteStaleChunks(deps: Deps, collection: string, counts: DocChunkCount[]): Promise<number> {
  if (counts.length === 0) return 0;
  const store = await deps.vectorStore();
  const current = new Map(counts.map((c) => [c.docId, c.chunks]));
  const stale: string[] = [];
  for (let i = 0; i < counts.length; i += 200) {
    const docIds = counts.slice(i, i + 200).map((c) => c.docId);
    for await (const p of store.scroll(collection, { must: [{ field: 'docId', in: docIds }] })) {
      if (p.payload.chunkIndex >= (current.get(p.payload.docId) ?? 0)) stale.push(p.id);
    }
  }
  if (stale.length > 0) await store.deleteByIds(collection, stale);
  return stale.length;
}

/**
 * An ingest whose model or chunking differs from the collection's builds a new index and switches the alias to it,
 * dropping the old one. That is right only when the old index holds nothing but this ingest's sources: the vectors
 * of any other source would be gone. Refused before any work, with what to do instead.
 */
async function refuseToDropOtherSources(deps: Deps, alias: string, live: string | undefined, sourceIds: string[]): Promise<void> {
  const store = await deps.vectorStore();
  // A plain collection under the user-facing name (made before aliases) is replaced the same way.
  const current = live ?? ((await store.describe(alias)) ? alias : undefined);
  if (!current) return;
  const others = (await store.count(current)) - (await store.count(current, { must: [{ field: 'sourceId', in: sourceIds }] }));
  if (others <= 0) return;
  throw ApplicationFailure.nonRetryable(
    `collection ${alias} was built with another embedding model or chunking, and ${others} of its points come from sources this ingest does not include (it has ${sourceIds.join(', ')}): ` +
      `switching it to the new index would drop them. Run \`twinflow sync\` with all of the collection's sources (it rebuilds the whole index blue/green), or ingest into another collection.`,
    'InvalidInput',
  );
}
