/**
 * Exact and near-duplicate removal for training examples.
 *
 * Exact: the hash of the normalised conversation text (case, whitespace and punctuation folded).
 * Near: MinHash signatures of word shingles, locality-sensitive hashing in bands to find candidate pairs, then the
 * true Jaccard similarity of the shingle sets decides. Duplicates are clustered (union-find) and the first example
 * of each cluster in input order is kept, so the result is deterministic. Removing near-duplicates before the split
 * is what keeps a test example's twin out of the training split.
 */
import { sha256 } from '../../lib/hash';
import type { Example } from '../../lib/schemas/train';

/** The text two examples are compared on: user and assistant turns (a shared system prompt would only add noise). */
export function dedupeText(e: Example): string {
  return e.messages
    .filter((m) => m.role !== 'system')
    .map((m) => m.content)
    .join('\n');
}

export function normalizeForDedupe(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFKC')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

export function exactDedupe<T>(items: readonly T[], textOf: (item: T) => string): { kept: T[]; removed: T[] } {
  const seen = new Set<string>();
  const kept: T[] = [];
  const removed: T[] = [];
  for (const item of items) {
    const h = sha256(normalizeForDedupe(textOf(item)));
    if (seen.has(h)) removed.push(item);
    else {
      seen.add(h);
      kept.push(item);
    }
  }
  return { kept, removed };
}

/** Word n-grams of the normalised text (the whole text when it has fewer than n words). */
export function shingles(text: string, n: number): Set<string> {
  const words = normalizeForDedupe(text).split(' ').filter(Boolean);
  const out = new Set<string>();
  if (words.length === 0) return out;
  if (words.length < n) {
    out.add(words.join(' '));
    return out;
  }
  for (let i = 0; i + n <= words.length; i += 1) out.add(words.slice(i, i + n).join(' '));
  return out;
}

export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let inter = 0;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const x of small) if (large.has(x)) inter += 1;
  return inter / (a.size + b.size - inter);
}

/** FNV-1a, 32 bits: hashes a shingle once; the permutations below mix that integer. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i += 1) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** murmur3's finaliser: a fast bijective mix of 32 bits. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Fixed per-permutation seeds (a seeded PRNG), so signatures are the same in every process. */
function permutationSeeds(n: number): Uint32Array {
  const seeds = new Uint32Array(n);
  let x = 0x9e3779b9;
  for (let i = 0; i < n; i += 1) {
    x = (x + 0x6d2b79f5) >>> 0;
    seeds[i] = fmix32(x);
  }
  return seeds;
}

export function minhashSignature(set: ReadonlySet<string>, seeds: Uint32Array): Uint32Array {
  const sig = new Uint32Array(seeds.length).fill(0xffffffff);
  for (const s of set) {
    const h = fnv1a(s);
    for (let i = 0; i < seeds.length; i += 1) {
      const v = fmix32(h ^ seeds[i]!);
      if (v < sig[i]!) sig[i] = v;
    }
  }
  return sig;
}

/**
 * Bands × rows with bands·rows = numPermutations whose LSH threshold (1/b)^(1/r) is closest to, and not above,
 * the Jaccard threshold (a lower LSH threshold only adds candidates; the exact Jaccard check removes false ones).
 */
export function lshParams(numPermutations: number, threshold: number): { bands: number; rows: number } {
  let best = { bands: numPermutations, rows: 1, gap: Infinity };
  for (let rows = 1; rows <= numPermutations; rows += 1) {
    if (numPermutations % rows !== 0) continue;
    const bands = numPermutations / rows;
    const t = (1 / bands) ** (1 / rows);
    if (t <= threshold && threshold - t < best.gap) best = { bands, rows, gap: threshold - t };
  }
  return { bands: best.bands, rows: best.rows };
}

export interface NearDedupeOptions {
  threshold: number;
  shingleSize: number;
  numPermutations: number;
}

export interface NearDedupeResult<T> {
  kept: T[];
  removed: Array<{ item: T; duplicateOf: T; similarity: number }>;
}

export function nearDedupe<T>(items: readonly T[], textOf: (item: T) => string, o: NearDedupeOptions): NearDedupeResult<T> {
  const seeds = permutationSeeds(o.numPermutations);
  const sets = items.map((it) => shingles(textOf(it), o.shingleSize));
  const sigs = sets.map((s) => minhashSignature(s, seeds));
  const { bands, rows } = lshParams(o.numPermutations, o.threshold);

  const parent = items.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!;
      i = parent[i]!;
    }
    return i;
  };
  const similarTo = new Map<number, { of: number; sim: number }>();
  const checked = new Set<string>();
  for (let b = 0; b < bands; b += 1) {
    const buckets = new Map<string, number[]>();
    for (let i = 0; i < items.length; i += 1) {
      if (sets[i]!.size === 0) continue;
      const key = Array.from(sigs[i]!.subarray(b * rows, (b + 1) * rows)).join(',');
      const bucket = buckets.get(key);
      if (bucket) bucket.push(i);
      else buckets.set(key, [i]);
    }
    for (const bucket of buckets.values()) {
      for (let x = 1; x < bucket.length; x += 1) {
        for (let y = 0; y < x; y += 1) {
          const i = bucket[y]!;
          const j = bucket[x]!;
          const pair = `${i}:${j}`;
          if (checked.has(pair)) continue;
          checked.add(pair);
          const sim = jaccard(sets[i]!, sets[j]!);
          if (sim >= o.threshold) {
            const ri = find(i);
            const rj = find(j);
            if (ri !== rj) parent[Math.max(ri, rj)] = Math.min(ri, rj);
            if (!similarTo.has(j)) similarTo.set(j, { of: i, sim });
          }
        }
      }
    }
  }
  const kept: T[] = [];
  const removed: NearDedupeResult<T>['removed'] = [];
  for (let i = 0; i < items.length; i += 1) {
    const root = find(i);
    if (root === i) kept.push(items[i]!);
    else {
      const s = similarTo.get(i);
      removed.push({ item: items[i]!, duplicateOf: items[root]!, similarity: s?.sim ?? o.threshold });
    }
  }
  return { kept, removed };
}
