import { describe, expect, it } from 'vitest';
import { meanScores, ndcgAtK, recallAtK, reciprocalRank, scoreRanking } from '../../../rag/eval/metrics';

const rel = (...ids: string[]) => new Set(ids);

describe('retrieval metrics', () => {
  it('recall@k counts relevant ids in the top k, duplicates once', () => {
    expect(recallAtK(['a', 'x', 'b', 'c'], rel('a', 'b'), 1)).toBe(0.5);
    expect(recallAtK(['a', 'x', 'b', 'c'], rel('a', 'b'), 3)).toBe(1);
    // Three chunks of document x push b out of the top 2 only if duplicates were counted.
    expect(recallAtK(['x', 'x', 'x', 'b'], rel('b'), 2)).toBe(1);
    expect(recallAtK(['x'], rel(), 5)).toBe(0);
  });

  it('MRR is the reciprocal rank of the first relevant id', () => {
    expect(reciprocalRank(['x', 'y', 'a'], rel('a'))).toBeCloseTo(1 / 3);
    expect(reciprocalRank(['a'], rel('a'))).toBe(1);
    expect(reciprocalRank(['x', 'y'], rel('a'))).toBe(0);
  });

  it('nDCG@10 matches a hand computation', () => {
    // Relevant at ranks 2 and 4 of two relevant: (1/log2(3) + 1/log2(5)) / (1 + 1/log2(3)).
    const expected = (1 / Math.log2(3) + 1 / Math.log2(5)) / (1 + 1 / Math.log2(3));
    expect(ndcgAtK(['x', 'a', 'y', 'b'], rel('a', 'b'), 10)).toBeCloseTo(expected, 10);
    expect(ndcgAtK(['a', 'b'], rel('a', 'b'), 10)).toBe(1);
    // A relevant id past rank 10 adds nothing.
    expect(ndcgAtK([...'0123456789'.split(''), 'a'], rel('a'), 10)).toBe(0);
  });

  it('averages per-query scores', () => {
    const ks = [1, 5];
    const m = meanScores([scoreRanking(['a'], rel('a'), ks), scoreRanking(['x', 'a'], rel('a'), ks)], ks);
    expect(m.mrr).toBeCloseTo(0.75);
    expect(m.recall[1]).toBe(0.5);
    expect(m.recall[5]).toBe(1);
  });
});
