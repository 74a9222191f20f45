/**
 * Deterministic train/validation/test split: examples are ordered by the hash of (seed, id) and cut by the
 * requested fractions. The same ids and seed always give the same split, whatever the input order; adding examples
 * moves few others. Every example lands in exactly one split (deduplication happens before, on the whole set).
 */
import { sha256 } from '../../lib/hash';

export interface SplitFractions {
  validation: number;
  test: number;
  seed: number;
}

export interface Splits<T> {
  train: T[];
  validation: T[];
  test: T[];
}

export function splitCounts(n: number, f: SplitFractions): { train: number; validation: number; test: number } {
  let test = Math.round(n * f.test);
  let validation = Math.round(n * f.validation);
  // Keep at least one example per requested split when there are enough, and at least one for training.
  if (f.test > 0 && test === 0 && n >= 3) test = 1;
  if (f.validation > 0 && validation === 0 && n >= 3) validation = 1;
  while (test + validation >= n && (test > 0 || validation > 0)) {
    if (validation >= test && validation > 0) validation -= 1;
    else test -= 1;
  }
  return { train: n - test - validation, validation, test };
}

export function splitExamples<T extends { id: string }>(items: readonly T[], f: SplitFractions): Splits<T> {
  const ids = new Set<string>();
  for (const it of items) {
    if (ids.has(it.id)) throw new Error(`splitExamples: duplicate example id ${JSON.stringify(it.id)}`);
    ids.add(it.id);
  }
  const ordered = items
    .map((it) => ({ it, key: sha256(`${f.seed}:${it.id}`) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((x) => x.it);
  const c = splitCounts(items.length, f);
  const byId = (a: T, b: T) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return {
    test: ordered.slice(0, c.test).sort(byId),
    validation: ordered.slice(c.test, c.test + c.validation).sort(byId),
    train: ordered.slice(c.test + c.validation).sort(byId),
  };
}
