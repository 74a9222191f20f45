/**
 * Nearest-neighbour search by BM25 (Okapi, k1 = 1.2, b = 0.75) over short texts held in memory: the no-LLM
 * "nearest training example" baseline finds, for each test prompt, the train prompt that scores highest and answers
 * with that example's answer. Terms are lib/vectorstore/bm25.ts's (lower-cased, accent-folded words and numbers,
 * English stop words dropped), so this ranks like the keyword half of hybrid search. idf is BM25's
 * ln(1 + (N − df + 0.5) / (df + 0.5)), computed over the indexed texts. Pure and deterministic: ties go to the
 * earlier text.
 */
import { tokenize } from '../vectorstore/bm25';

export interface Bm25Index {
  /** The index of the best-scoring text for a query and its score (index 0, score 0 when nothing matches). */
  nearest(query: string): { index: number; score: number };
}

export function bm25Index(texts: readonly string[], o: { k1?: number; b?: number } = {}): Bm25Index {
  const k1 = o.k1 ?? 1.2;
  const b = o.b ?? 0.75;
  const docs = texts.map((t) => {
    const tf = new Map<string, number>();
    const terms = tokenize(t);
    for (const term of terms) tf.set(term, (tf.get(term) ?? 0) + 1);
    return { tf, length: terms.length };
  });
  const df = new Map<string, number>();
  for (const d of docs) for (const term of d.tf.keys()) df.set(term, (df.get(term) ?? 0) + 1);
  const n = docs.length;
  const avgLength = n ? docs.reduce((a, d) => a + d.length, 0) / n : 0;
  const idf = (term: string) => {
    const f = df.get(term) ?? 0;
    return Math.log(1 + (n - f + 0.5) / (f + 0.5));
  };
  return {
    nearest(query: string) {
      const terms = [...new Set(tokenize(query))];
      let best = { index: 0, score: 0 };
      docs.forEach((d, i) => {
        let score = 0;
        const norm = k1 * (1 - b + (b * d.length) / (avgLength || 1));
        for (const term of terms) {
          const f = d.tf.get(term);
          if (f) score += (idf(term) * (f * (k1 + 1))) / (f + norm);
        }
        if (score > best.score) best = { index: i, score };
      });
      return best;
    },
  };
}
