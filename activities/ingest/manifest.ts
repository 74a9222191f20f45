/**
 * The run's manifest: every cleaned document in crawl order with its contentHash, and the exact duplicates across
 * sources (same contentHash, or the same docId reached through two sources) that the load skips. The first
 * occurrence wins, so the choice is deterministic.
 */
import type { CleanDocument } from '../../lib/schemas/documents';
import type { PartRef } from '../../lib/schemas/ingest';
import type { Deps } from '../deps';
import { elapsedSince } from '../parts';

export interface ManifestEntry {
  docId: string;
  contentHash: string;
  sourceId: string;
  location: string;
  title: string;
  part: string;
}

/** Duplicates are named by the part they were found in, since the same docId may legitimately be in two parts. */
export interface DuplicateRef {
  part: string;
  docId: string;
  keptDocId: string;
  sourceId: string;
  location: string;
}

export function createManifestActivities({ artifacts }: Deps) {
  return {
    async buildManifest({ runKey, cleanedParts }: { runKey: string; cleanedParts: PartRef[] }) {
      const started = performance.now();
      const byHash = new Map<string, string>();
      const byDocId = new Set<string>();
      const duplicates: DuplicateRef[] = [];
      async function* entries(): AsyncGenerator<ManifestEntry> {
        for (const part of cleanedParts) {
          for await (const doc of artifacts.readJsonl<CleanDocument>(part.uri)) {
            const kept = byHash.get(doc.contentHash) ?? (byDocId.has(doc.docId) ? doc.docId : undefined);
            if (kept !== undefined) {
              duplicates.push({ part: part.uri, docId: doc.docId, keptDocId: kept, sourceId: doc.sourceId, location: doc.location });
              continue;
            }
            byHash.set(doc.contentHash, doc.docId);
            byDocId.add(doc.docId);
            yield { docId: doc.docId, contentHash: doc.contentHash, sourceId: doc.sourceId, location: doc.location, title: doc.title, part: part.uri };
          }
        }
      }
      const manifest = await artifacts.putJsonl(`${runKey}/manifest.jsonl`, entries());
      const dup = await artifacts.putJson(`${runKey}/duplicates.json`, duplicates);
      return { manifestUri: manifest.uri, documents: manifest.count, duplicates: duplicates.length, duplicatesUri: dup.uri, elapsedMs: elapsedSince(started) };
    },

    async writeRunReport({ runKey, result }: { runKey: string; result: unknown }) {
      return artifacts.putJson(`${runKey}/report.json`, result);
    },
  };
}
