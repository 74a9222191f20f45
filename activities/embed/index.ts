/**
 * Embed: a chunks part → a vectors part (JSON Lines of { id, vector }), batch by batch.
 *
 * Each batch goes through the embedding cache (keyed by chunk hash + model id, kept in the vector store so every
 * worker shares it): unchanged text is never embedded twice, and a retried attempt re-reads the batches it already
 * embedded from the cache instead of recomputing them.
 */
import { Context } from '@temporalio/activity';
import type { PartRef } from '../../lib/schemas/ingest';
import type { ChunkRecord } from '../chunk';
import type { Deps } from '../deps';
import { elapsedSince, partKey } from '../parts';

export interface VectorRecord {
  id: string;
  vector: number[];
}

export function createEmbedActivities(deps: Deps) {
  const { artifacts } = deps;
  return {
    async embedPart({ chunksPart, partIndex, runKey }: { chunksPart: PartRef; partIndex: number; runKey: string }) {
      const started = performance.now();
      const ctx = Context.current();
      const embedder = await deps.cachedEmbedder();
      const batchSize = deps.config.embedding.batchSize;
      let embedded = 0;
      let reused = 0;
      let batches = 0;
      let embedMs = 0;
      async function* vectors(): AsyncGenerator<VectorRecord> {
        let batch: ChunkRecord[] = [];
        const run = async function* () {
          const t = performance.now();
          const out = await embedder.embedWithStats(
            batch.map((c) => c.text),
            batch.map((c) => c.payload.chunkHash),
          );
          embedMs += performance.now() - t;
          embedded += out.embedded;
          reused += out.reused;
          batches += 1;
          ctx.heartbeat({ batches, embedded, reused });
          for (let i = 0; i < batch.length; i++) yield { id: batch[i]!.id, vector: out.vectors[i]! };
          batch = [];
        };
        for await (const chunk of artifacts.readJsonl<ChunkRecord>(chunksPart.uri)) {
          batch.push(chunk);
          if (batch.length >= batchSize) yield* run();
        }
        if (batch.length > 0) yield* run();
      }
      const group = `p${String(partIndex).padStart(5, '0')}`;
      const ref = await artifacts.putJsonl(partKey(runKey, 'vectors', group, 0), vectors());
      return {
        vectorsPart: { uri: ref.uri, count: ref.count },
        embedded,
        reused,
        model: embedder.modelId,
        dimension: embedder.dimension,
        /** Time inside the model (and cache), to compare with the bare model's throughput. */
        modelMs: Math.round(embedMs),
        elapsedMs: elapsedSince(started),
      };
    },
  };
}
