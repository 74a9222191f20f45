/**
 * Rank fusion for hybrid search: combines ranked lists (vector hits, keyword hits, hits of several query rewrites)
 * into one. Pure functions, shared by both stores and by retrieval.
 */

/** The constant of reciprocal rank fusion (Cormack et al., 2009); 60 is the usual default in Qdrant and LanceDB too. */
export const RRF_K = 60;

/**
 * Reciprocal rank fusion: score(d) = Σ over lists of 1 / (k + rank of d in that list), ranks starting at 1.
 * Only ranks matter, so lists with incomparable scores (cosine, BM25) fuse fairly. An item keeps the fields of its
 * first appearance; ties keep first-seen order, so the result is deterministic.
 */
export function reciprocalRankFusion<T extends { id: string }>(
  lists: ReadonlyArray<ReadonlyArray<T>>,
  opts: { k?: number; limit?: number } = {},
): Array<T & { score: number }> {
  const k = opts.k ?? RRF_K;
  if (!(k >= 0) || !Number.isFinite(k)) throw new Error(`reciprocalRankFusion: k must be a finite number >= 0, got ${k}`);
  const fused = new Map<string, { item: T; score: number; order: number }>();
  for (const list of lists) {
    const seen = new Set<string>();
    list.forEach((item, index) => {
      if (seen.has(item.id)) return; // a duplicate within one list counts once, at its best rank
      seen.add(item.id);
      const contribution = 1 / (k + index + 1);
      const entry = fused.get(item.id);
      if (entry) entry.score += contribution;
      else fused.set(item.id, { item, score: contribution, order: fused.size });
    });
  }
  return finish(fused, opts.limit);
}

/** Min-max normalisation into [0, 1]. All-equal scores map to 1 (each is as good as the best). */
export function minMaxNormalize(scores: readonly number[]): number[] {
  if (scores.length === 0) return [];
  const min = Math.min(...scores);
  const max = Math.max(...scores);
  if (max === min) return scores.map(() => 1);
  return scores.map((s) => (s - min) / (max - min));
}

/**
 * Convex combination of normalised scores: alpha · vector + (1 − alpha) · keyword, each side min-max normalised over
 * its own candidates; an item missing from one side gets 0 there. alpha = 1 is pure vector, 0 pure keyword.
 */
export function alphaFusion<T extends { id: string; score: number }>(
  vectorHits: ReadonlyArray<T>,
  keywordHits: ReadonlyArray<T>,
  alpha: number,
  opts: { limit?: number } = {},
): Array<T & { score: number }> {
  if (!(alpha >= 0 && alpha <= 1)) throw new Error(`alpha must be a number in [0, 1], got ${alpha}`);
  const fused = new Map<string, { item: T; score: number; order: number }>();
  const add = (hits: ReadonlyArray<T>, weight: number) => {
    const normalised = minMaxNormalize(hits.map((h) => h.score));
    hits.forEach((hit, i) => {
      const contribution = weight * (normalised[i] ?? 0);
      const entry = fused.get(hit.id);
      if (entry) entry.score += contribution;
      else fused.set(hit.id, { item: hit, score: contribution, order: fused.size });
    });
  };
  add(dedupe(vectorHits), alpha);
  add(dedupe(keywordHits), 1 - alpha);
  return finish(fused, opts.limit);
}

/** How a hybrid search fuses its two halves: reciprocal rank fusion, or alpha-weighted normalised scores. */
export type HybridFusion = 'rrf' | { alpha: number };

/**
 * The one fusion of both stores' hybrid search: the vector half and the keyword half, each fetched with the same
 * candidate count, fused here (not by the store's server), so LanceDB and Qdrant rank a hybrid query the same way
 * given the same halves. RRF uses RRF_K; alpha fusion min-max normalises each half first.
 */
export function fuseHybrid<T extends { id: string; score: number }>(
  vectorHits: ReadonlyArray<T>,
  keywordHits: ReadonlyArray<T>,
  fusion: HybridFusion,
  limit: number,
): Array<T & { score: number }> {
  if (fusion === 'rrf') return reciprocalRankFusion([vectorHits, keywordHits], { k: RRF_K, limit });
  return alphaFusion(vectorHits, keywordHits, fusion.alpha, { limit });
}

function dedupe<T extends { id: string }>(hits: ReadonlyArray<T>): T[] {
  const seen = new Set<string>();
  return hits.filter((h) => (seen.has(h.id) ? false : (seen.add(h.id), true)));
}

function finish<T>(fused: Map<string, { item: T; score: number; order: number }>, limit?: number): Array<T & { score: number }> {
  const ranked = [...fused.values()].sort((a, b) => b.score - a.score || a.order - b.order);
  return (limit === undefined ? ranked : ranked.slice(0, limit)).map(({ item, score }) => ({ ...item, score }));
}
