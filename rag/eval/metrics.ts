/**
 * Ranking metrics for retrieval evaluation, over a ranked list of ids (documents or chunks) and the set of relevant
 * ids for the query. Binary relevance. Duplicate ids in a ranking count once, at their first position (several chunks
 * of one document are one document hit).
 */

export function dedupe(ranking: readonly string[]): string[] {
  return [...new Set(ranking)];
}

/** Share of the relevant ids found in the top k. 0 when nothing is relevant (such queries are rejected upstream). */
export function recallAtK(ranking: readonly string[], relevant: ReadonlySet<string>, k: number): number {
  if (relevant.size === 0) return 0;
  const found = dedupe(ranking)
    .slice(0, k)
    .filter((id) => relevant.has(id)).length;
  return found / relevant.size;
}

/** Reciprocal rank of the first relevant id (0 when none is ranked). */
export function reciprocalRank(ranking: readonly string[], relevant: ReadonlySet<string>): number {
  const at = dedupe(ranking).findIndex((id) => relevant.has(id));
  return at < 0 ? 0 : 1 / (at + 1);
}

/** nDCG@k with binary gains: DCG of the ranking over the DCG of an ideal ranking of the relevant ids. */
export function ndcgAtK(ranking: readonly string[], relevant: ReadonlySet<string>, k: number): number {
  if (relevant.size === 0) return 0;
  const dcg = dedupe(ranking)
    .slice(0, k)
    .reduce((sum, id, i) => sum + (relevant.has(id) ? 1 / Math.log2(i + 2) : 0), 0);
  let ideal = 0;
  for (let i = 0; i < Math.min(k, relevant.size); i++) ideal += 1 / Math.log2(i + 2);
  return dcg / ideal;
}

export interface QueryScores {
  recall: Record<number, number>;
  mrr: number;
  ndcg10: number;
}

export function scoreRanking(ranking: readonly string[], relevant: ReadonlySet<string>, ks: readonly number[]): QueryScores {
  return {
    recall: Object.fromEntries(ks.map((k) => [k, recallAtK(ranking, relevant, k)])),
    mrr: reciprocalRank(ranking, relevant),
    ndcg10: ndcgAtK(ranking, relevant, 10),
  };
}

/** Mean of each metric over queries. */
export function meanScores(all: readonly QueryScores[], ks: readonly number[]): QueryScores {
  const mean = (f: (s: QueryScores) => number) => (all.length ? all.reduce((a, s) => a + f(s), 0) / all.length : 0);
  return {
    recall: Object.fromEntries(ks.map((k) => [k, mean((s) => s.recall[k] ?? 0)])),
    mrr: mean((s) => s.mrr),
    ndcg10: mean((s) => s.ndcg10),
  };
}
