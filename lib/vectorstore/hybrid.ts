/**
 * Hybrid search, the same on every store: the request is checked, the vector half and the keyword half are fetched
 * with the store's own search and keywordSearch (each with the same candidate count), and the halves are fused here
 * with fuseHybrid (fusion.ts), not by the backend, so LanceDB and Qdrant rank a hybrid query the same way given the
 * same halves. Why not the backends' own fusion: Qdrant's server-side `{ fusion: 'rrf' }` has the server version's
 * k and tie order (docs/vector-store.md); LanceDB's hybrid query (fullTextSearch + nearestTo + RRFReranker) fuses
 * the same way as ours (its ranks count from 0, so its k = 61 equals our k = 60; the LanceDB test checks they
 * agree), but in 0.39 it logs a deprecation warning on every call and takes no per-side candidate count.
 */
import { checkLimit } from './checks';
import { filterMatchesNothing, validateFilter } from './filter';
import { fuseHybrid } from './fusion';
import type { Hit, HybridRequest, VectorStore } from './types';

export async function hybridSearch(store: Pick<VectorStore, 'search' | 'keywordSearch'>, name: string, req: HybridRequest): Promise<Hit[]> {
  validateFilter(req.filter);
  checkLimit(req.limit);
  const fusion = req.fusion ?? 'rrf';
  if (fusion !== 'rrf' && !(fusion.alpha >= 0 && fusion.alpha <= 1)) throw new Error(`Invalid fusion alpha ${fusion.alpha}: expected a number in [0, 1]`);
  const candidates = req.candidates ?? 4 * req.limit;
  checkLimit(candidates, 'candidates');
  if (filterMatchesNothing(req.filter)) return [];
  const [vectorHits, keywordHits] = await Promise.all([
    store.search(name, { vector: req.vector, limit: candidates, filter: req.filter }),
    store.keywordSearch(name, { query: req.query, limit: candidates, filter: req.filter }),
  ]);
  return fuseHybrid(vectorHits, keywordHits, fusion, req.limit);
}
