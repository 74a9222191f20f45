/**
 * Chunk: a cleaned part → child chunks (embedded and searched) and their parent sections (small-to-big context),
 * each chunk carrying its document's metadata as the vector store payload.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { ChunkOptionsError, chunkDocument, resolveChunkOptions } from '../../lib/text';
import type { CleanDocument } from '../../lib/schemas/documents';
import type { ChunkingOptions, PartRef } from '../../lib/schemas/ingest';
import type { ChunkPayload, ParentRecord } from '../../lib/vectorstore/types';
import type { Deps } from '../deps';
import type { DuplicateRef } from '../ingest/manifest';
import { elapsedSince, partKey } from '../parts';

/** A chunk ready to embed and load: the text plus its payload (without the model, added at load). */
export interface ChunkRecord {
  id: string;
  text: string;
  payload: Omit<ChunkPayload, 'model'>;
}

/** Per document of a part: how many chunks it now has (the load deletes any stale higher-index chunks). */
export interface DocChunkCount {
  docId: string;
  chunks: number;
}

export function toPayload(doc: CleanDocument, chunk: { chunkIndex: number; parentId: string; headingPath: string[]; chunkHash: string }): Omit<ChunkPayload, 'model'> {
  const publishedTs = doc.publishedAt ? Date.parse(doc.publishedAt) : NaN;
  return {
    docId: doc.docId,
    chunkIndex: chunk.chunkIndex,
    parentId: chunk.parentId,
    sourceId: doc.sourceId,
    sourceType: doc.sourceType,
    location: doc.location,
    url: doc.url,
    path: doc.path,
    title: doc.title,
    author: doc.author,
    publishedAt: doc.publishedAt,
    publishedTs: Number.isFinite(publishedTs) ? publishedTs : undefined,
    language: doc.language,
    tags: doc.tags ?? [],
    headingPath: chunk.headingPath.join(' > '),
    chunkHash: chunk.chunkHash,
    contentHash: doc.contentHash,
  };
}

export interface ChunkInput {
  cleanedPart: PartRef;
  partIndex: number;
  runKey: string;
  duplicatesUri?: string;
  chunking: ChunkingOptions;
}

export function createChunkActivities(deps: Deps) {
  const { artifacts } = deps;
  return {
    async chunkPart({ cleanedPart, partIndex, runKey, duplicatesUri, chunking }: ChunkInput) {
      const started = performance.now();
      const ctx = Context.current();
      const tokenizer = await deps.tokenizer();
      // Chunk settings the model cannot take fail the run at once (a retry gets the same answer), naming the field.
      try {
        resolveChunkOptions(chunking, tokenizer);
      } catch (err) {
        if (err instanceof ChunkOptionsError) throw ApplicationFailure.nonRetryable(err.message, 'InvalidInput');
        throw err;
      }
      const skip = new Set<string>();
      if (duplicatesUri) {
        for (const d of await artifacts.getJson<DuplicateRef[]>(duplicatesUri)) if (d.part === cleanedPart.uri) skip.add(d.docId);
      }
      const parents: ParentRecord[] = [];
      const counts: DocChunkCount[] = [];
      async function* chunks(): AsyncGenerator<ChunkRecord> {
        for await (const doc of artifacts.readJsonl<CleanDocument>(cleanedPart.uri)) {
          if (skip.has(doc.docId)) continue;
          ctx.heartbeat();
          const out = chunkDocument(doc, tokenizer, chunking);
          for (const p of out.parents) parents.push({ parentId: p.parentId, docId: p.docId, text: p.text, headingPath: p.headingPath.join(' > ') });
          counts.push({ docId: doc.docId, chunks: out.chunks.length });
          for (const c of out.chunks) yield { id: c.id, text: c.text, payload: toPayload(doc, c) };
        }
      }
      const group = `p${String(partIndex).padStart(5, '0')}`;
      const chunksRef = await artifacts.putJsonl(partKey(runKey, 'chunks', group, 0), chunks());
      const parentsRef = await artifacts.putJsonl(partKey(runKey, 'parents', group, 0), parents);
      const docsRef = await artifacts.putJson(partKey(runKey, 'chunk-counts', group, 0, 'json'), counts);
      return {
        chunksPart: { uri: chunksRef.uri, count: chunksRef.count },
        parentsPart: { uri: parentsRef.uri, count: parentsRef.count },
        docIdsUri: docsRef.uri,
        documents: counts.length,
        chunks: chunksRef.count,
        elapsedMs: elapsedSince(started),
      };
    },
  };
}
