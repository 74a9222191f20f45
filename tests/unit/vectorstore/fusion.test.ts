import { describe, expect, it } from 'vitest';
import { alphaFusion, minMaxNormalize, reciprocalRankFusion, RRF_K } from '../../../lib/vectorstore/fusion';

const hits = (...ids: string[]) => ids.map((id, i) => ({ id, score: 10 - i }));

describe('reciprocalRankFusion', () => {
  it('sums 1/(k + rank) over lists, ranks counted from 1', () => {
    const fused = reciprocalRankFusion([hits('a', 'b', 'c'), hits('c', 'a')]);
    const score = Object.fromEntries(fused.map((h) => [h.id, h.score]));
    expect(score.a).toBeCloseTo(1 / (RRF_K + 1) + 1 / (RRF_K + 2), 12);
    expect(score.b).toBeCloseTo(1 / (RRF_K + 2), 12);
    expect(score.c).toBeCloseTo(1 / (RRF_K + 3) + 1 / (RRF_K + 1), 12);
    expect(fused.map((h) => h.id)).toEqual(['a', 'c', 'b']);
  });

  it('rewards items found by several lists over a single first place', () => {
    const fused = reciprocalRankFusion([hits('solo', 'both'), hits('x', 'both'), hits('y', 'both')]);
    expect(fused[0]!.id).toBe('both');
  });

  it('keeps the first appearance of an item, breaks ties by first appearance, and honours limit and k', () => {
    const fused = reciprocalRankFusion([[{ id: 'a', score: 1, tag: 'first' }], [{ id: 'b', score: 9, tag: 'x' }, { id: 'a', score: 5, tag: 'second' }]], { k: 0, limit: 2 });
    expect(fused).toEqual([
      { id: 'a', score: 1 + 1 / 2, tag: 'first' },
      { id: 'b', score: 1, tag: 'x' },
    ]);
    const tie = reciprocalRankFusion([hits('p'), hits('q')]);
    expect(tie.map((h) => h.id)).toEqual(['p', 'q']);
    expect(reciprocalRankFusion([hits('a', 'b', 'c')], { limit: 1 })).toHaveLength(1);
  });

  it('counts a duplicate within one list once, at its best rank', () => {
    const fused = reciprocalRankFusion([[{ id: 'a' }, { id: 'a' }, { id: 'b' }]]);
    expect(fused.find((h) => h.id === 'a')!.score).toBeCloseTo(1 / (RRF_K + 1), 12);
    expect(fused.find((h) => h.id === 'b')!.score).toBeCloseTo(1 / (RRF_K + 3), 12);
  });

  it('returns nothing for no lists and rejects a bad k', () => {
    expect(reciprocalRankFusion([])).toEqual([]);
    expect(() => reciprocalRankFusion([hits('a')], { k: -1 })).toThrow(/k must be/);
  });
});

describe('minMaxNormalize', () => {
  it('maps to [0, 1], all-equal to 1, empty to empty', () => {
    expect(minMaxNormalize([2, 4, 3])).toEqual([0, 1, 0.5]);
    expect(minMaxNormalize([7, 7])).toEqual([1, 1]);
    expect(minMaxNormalize([])).toEqual([]);
  });
});

describe('alphaFusion', () => {
  const vector = [
    { id: 'v1', score: 0.9 },
    { id: 'both', score: 0.7 },
    { id: 'v2', score: 0.5 },
  ];
  const keyword = [
    { id: 'k1', score: 12 },
    { id: 'both', score: 8 },
    { id: 'k2', score: 4 },
  ];

  it('alpha 1 is the vector ranking, alpha 0 the keyword ranking', () => {
    // (the last of each side normalises to 0, level with everything the side did not find)
    expect(alphaFusion(vector, keyword, 1).slice(0, 2).map((h) => h.id)).toEqual(['v1', 'both']);
    expect(alphaFusion(vector, keyword, 0).slice(0, 2).map((h) => h.id)).toEqual(['k1', 'both']);
    expect(alphaFusion(vector, keyword, 0).map((h) => h.score)).toEqual([1, 0.5, 0, 0, 0]);
  });

  it('mixes normalised scores: alpha·vector + (1-alpha)·keyword, 0 for a missing side', () => {
    const fused = Object.fromEntries(alphaFusion(vector, keyword, 0.5).map((h) => [h.id, h.score]));
    expect(fused.both).toBeCloseTo(0.5 * 0.5 + 0.5 * 0.5, 12);
    expect(fused.v1).toBeCloseTo(0.5, 12);
    expect(fused.k1).toBeCloseTo(0.5, 12);
    expect(fused.v2).toBeCloseTo(0, 12);
    expect(alphaFusion(vector, keyword, 0.3, { limit: 2 })).toHaveLength(2);
  });

  it('rejects alpha outside [0, 1]', () => {
    expect(() => alphaFusion(vector, keyword, 1.5)).toThrow(/alpha must be a number in \[0, 1\], got 1.5/);
    expect(() => alphaFusion(vector, keyword, Number.NaN)).toThrow(/alpha/);
  });
});
