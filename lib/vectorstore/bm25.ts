/**
 * Sparse BM25 vectors for Qdrant's keyword search. The client turns text into term → BM25 term-frequency weight
 * (with length normalisation); the collection's sparse vector has Qdrant's `idf` modifier, so the server multiplies
 * in each term's inverse document frequency over the live collection. Query vectors weigh each distinct term 1, so
 * score(q, d) = Σ over shared terms of idf(t) · tf-part(t, d): BM25.
 */

/** BM25 parameters (the usual defaults) and an assumed average chunk length in terms. */
export const BM25 = { k1: 1.2, b: 0.75, avgLength: 200 } as const;

/** Frequent English words that carry no search signal (a short list; the index stays language-neutral otherwise). */
const STOP_WORDS = new Set(
  'a an and are as at be but by for from has have he her his i if in into is it its of on or our she so than that the their them then there these they this to was we were what when which who will with you your'.split(' '),
);

/** Lower-cased, accent-folded words and numbers; stop words and over-long tokens dropped. */
export function tokenize(text: string): string[] {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((t) => t.length > 0 && t.length <= 40 && !STOP_WORDS.has(t));
}

/** A term's index in the sparse vector: 32-bit FNV-1a of its UTF-8 bytes (collisions are rare and only blur scores). */
export function termIndex(term: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(term)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export interface SparseVector {
  indices: number[];
  values: number[];
}

function toSparse(weights: Map<number, number>): SparseVector {
  const indices = [...weights.keys()].sort((a, b) => a - b);
  return { indices, values: indices.map((i) => weights.get(i) as number) };
}

/** A document's sparse vector: BM25's saturated, length-normalised term frequency per term. */
export function documentSparseVector(text: string): SparseVector {
  const terms = tokenize(text);
  const tf = new Map<number, number>();
  for (const t of terms) {
    const i = termIndex(t);
    tf.set(i, (tf.get(i) ?? 0) + 1);
  }
  const { k1, b, avgLength } = BM25;
  const norm = k1 * (1 - b + (b * terms.length) / avgLength);
  const weights = new Map<number, number>();
  for (const [i, f] of tf) weights.set(i, (f * (k1 + 1)) / (f + norm));
  return toSparse(weights);
}

/** A query's sparse vector: each distinct term once, weight 1. */
export function querySparseVector(text: string): SparseVector {
  return toSparse(new Map(tokenize(text).map((t) => [termIndex(t), 1])));
}
