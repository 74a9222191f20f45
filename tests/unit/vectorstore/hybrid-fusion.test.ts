/** fuseHybrid: the one fusion both stores' hybrid search uses (LanceDB and Qdrant fuse their halves client-side). */
import { describe, expect, it } from 'vitest';
import { alphaFusion, fuseHybrid, reciprocalRankFusion, RRF_K } from '../../../lib/vectorstore/fusion';

const hit = (id: string, score: number) => ({ id, score });
// The vector half ranks v1 v2 both; the keyword half ranks both k1 k2. `both` is 3rd and 1st.
const vectorHalf = [hit('v1', 0.9), hit('v2', 0.85), hit('both', 0.8), hit('v3', 0.5)];
const keywordHalf = [hit('both', 12), hit('k1', 11.5), hit('k2', 4), hit('v3', 1)];

describe('fuseHybrid', () => {
  it('rrf: reciprocal rank fusion with k = RRF_K = 60 over the two halves', () => {
    const fused = fuseHybrid(vectorHalf, keywordHalf, 'rrf', 10);
    expect(fused).toEqual(reciprocalRankFusion([vectorHalf, keywordHalf], { k: RRF_K, limit: 10 }));
    expect(fused[0]).toEqual({ id: 'both', score: 1 / 63 + 1 / 61 });
    // v3: 4th in both halves: 2/64 beats v1's single 1/61; v2 and k1 tie at 1/62 and keep first-seen order.
    expect(fused.map((h) => h.id)).toEqual(['both', 'v3', 'v1', 'v2', 'k1', 'k2']);
  });

  it('rrf depends on k: a small k (as a server-side default may use) lets one half\'s top hits outrank agreement', () => {
    // With k = 1, v1 (1st in one half: 1/2) outranks v3 (4th in both: 2/5); with k = 60 agreement wins (above).
    const smallK = reciprocalRankFusion([vectorHalf, keywordHalf], { k: 1 }).map((h) => h.id);
    expect(smallK.indexOf('v1')).toBeLessThan(smallK.indexOf('v3'));
    const ours = fuseHybrid(vectorHalf, keywordHalf, 'rrf', 10).map((h) => h.id);
    expect(ours.indexOf('v3')).toBeLessThan(ours.indexOf('v1'));
  });

  it('alpha: the normalised convex combination, and the limit', () => {
    expect(fuseHybrid(vectorHalf, keywordHalf, { alpha: 0.4 }, 3)).toEqual(alphaFusion(vectorHalf, keywordHalf, 0.4, { limit: 3 }));
    expect(fuseHybrid(vectorHalf, keywordHalf, { alpha: 1 }, 1)[0]!.id).toBe('v1');
    expect(fuseHybrid(vectorHalf, keywordHalf, { alpha: 0 }, 1)[0]!.id).toBe('both');
    expect(() => fuseHybrid(vectorHalf, keywordHalf, { alpha: 1.5 }, 3)).toThrow(/alpha must be a number in \[0, 1\]/);
  });
});
