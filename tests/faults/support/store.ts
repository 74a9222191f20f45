/**
 * What a fault test checks afterwards: the vector store's content, read back from LanceDB, against the clean run of
 * the same input. Point ids derive from (docId, chunkIndex) and docIds from the document's location, so the same input
 * read from the same place gives the same ids: the faulted store must hold exactly the clean store's points.
 */
import { createDeps } from '../../../activities/deps';
import type { Point } from '../../../lib/vectorstore/types';
import type { StoreCounts } from '../../harness/fault-report';
import { faultConfig } from '../../harness/fault-stack';

export interface PointRow {
  id: string;
  docId: string;
  chunkIndex: number;
  contentHash: string;
  chunkHash: string;
  location: string;
}

export interface StoreSnapshot extends StoreCounts {
  rows: PointRow[];
  /** Points sharing an id with another point. */
  duplicateIds: number;
  /** Points sharing (docId, chunkIndex) with another point. */
  duplicateDocChunks: number;
  /** Documents whose points carry more than one content hash (a chunk of an old version left behind). */
  mixedVersionDocs: number;
  /** Documents whose chunk indexes are not exactly 0..n-1. */
  gappedDocs: number;
}

export async function snapshotStore(lancedbUri: string, collection: string, opts: { withVectors?: boolean } = {}): Promise<StoreSnapshot & { full?: Point[] }> {
  const deps = createDeps(faultConfig({ LANCEDB_URI: lancedbUri }));
  const store = await deps.vectorStore();
  try {
    const rows: PointRow[] = [];
    for await (const p of store.scroll(collection)) {
      rows.push({ id: p.id, docId: p.payload.docId, chunkIndex: p.payload.chunkIndex, contentHash: p.payload.contentHash, chunkHash: p.payload.chunkHash, location: p.payload.location });
    }
    const byDoc = new Map<string, PointRow[]>();
    for (const r of rows) byDoc.set(r.docId, [...(byDoc.get(r.docId) ?? []), r]);
    let mixedVersionDocs = 0;
    let gappedDocs = 0;
    for (const ps of byDoc.values()) {
      if (new Set(ps.map((p) => p.contentHash)).size > 1) mixedVersionDocs += 1;
      const idx = [...new Set(ps.map((p) => p.chunkIndex))].sort((a, b) => a - b);
      if (idx.some((v, i) => v !== i)) gappedDocs += 1;
    }
    const snap: StoreSnapshot & { full?: Point[] } = {
      documents: byDoc.size,
      points: rows.length,
      rows,
      duplicateIds: rows.length - new Set(rows.map((r) => r.id)).size,
      duplicateDocChunks: rows.length - new Set(rows.map((r) => `${r.docId}#${r.chunkIndex}`)).size,
      mixedVersionDocs,
      gappedDocs,
    };
    if (opts.withVectors) {
      const ids = rows.map((r) => r.id);
      const points: Point[] = [];
      for (let i = 0; i < ids.length; i += 200) points.push(...((await store.retrieve(collection, ids.slice(i, i + 200), { withVector: true })) as Point[]));
      snap.full = points;
    }
    return snap;
  } finally {
    await store.close();
  }
}

const signature = (r: PointRow) => `${r.id}|${r.docId}|${r.chunkIndex}|${r.contentHash}|${r.chunkHash}`;

export interface Comparison {
  /** Points of the clean run missing from the faulted store. */
  lost: number;
  /** Points the faulted store has beyond the clean run's (extra or repeated points, chunks of old versions). */
  duplicated: number;
  /** Details for the assertion message. */
  problems: string[];
}

/** The faulted store against the clean one; both must also be internally consistent. */
export function compareStores(clean: StoreSnapshot, after: StoreSnapshot): Comparison {
  const cleanSigs = new Set(clean.rows.map(signature));
  const afterSigs = new Set(after.rows.map(signature));
  const lost = [...cleanSigs].filter((s) => !afterSigs.has(s)).length;
  const extra = [...afterSigs].filter((s) => !cleanSigs.has(s)).length;
  const duplicated = extra + after.duplicateIds + after.duplicateDocChunks;
  const problems: string[] = [];
  if (after.documents !== clean.documents) problems.push(`documents ${after.documents} != clean ${clean.documents}`);
  if (after.points !== clean.points) problems.push(`points ${after.points} != clean ${clean.points}`);
  if (lost) problems.push(`${lost} points of the clean run missing`);
  if (extra) problems.push(`${extra} points the clean run does not have`);
  if (after.duplicateIds) problems.push(`${after.duplicateIds} duplicate point ids`);
  if (after.duplicateDocChunks) problems.push(`${after.duplicateDocChunks} duplicate (docId, chunkIndex)`);
  if (after.mixedVersionDocs) problems.push(`${after.mixedVersionDocs} documents with chunks of two versions (stale chunks)`);
  if (after.gappedDocs) problems.push(`${after.gappedDocs} documents with chunk index gaps`);
  if (clean.duplicateIds || clean.duplicateDocChunks || clean.mixedVersionDocs || clean.gappedDocs) problems.push('the clean run itself is inconsistent');
  return { lost, duplicated, problems };
}
