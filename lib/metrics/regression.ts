/** Error metrics for numeric predictions (ratings). */

export interface PairErrors {
  count: number;
  rmse: number | null;
  mae: number | null;
}

/** RMSE and MAE over (predicted, expected) pairs; null when there are no pairs. */
export function regressionErrors(pairs: ReadonlyArray<readonly [predicted: number, expected: number]>): PairErrors {
  if (pairs.length === 0) return { count: 0, rmse: null, mae: null };
  let sq = 0;
  let abs = 0;
  for (const [p, e] of pairs) {
    const d = p - e;
    sq += d * d;
    abs += Math.abs(d);
  }
  return { count: pairs.length, rmse: Math.sqrt(sq / pairs.length), mae: abs / pairs.length };
}

/** Mean of numbers; null for none. */
export function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

/** The p-th percentile (0-100) by linear interpolation between closest ranks (numpy's default). */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}
