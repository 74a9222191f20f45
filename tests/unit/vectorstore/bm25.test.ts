import { describe, expect, it } from 'vitest';
import { documentSparseVector, querySparseVector, termIndex, tokenize } from '../../../lib/vectorstore/bm25';

describe('BM25 sparse vectors', () => {
  it('tokenizes to lower-case, accent-folded words without stop words', () => {
    expect(tokenize('The Café serves CRÈME brûlée, and 42 snacks!')).toEqual(['cafe', 'serves', 'creme', 'brulee', '42', 'snacks']);
    expect(tokenize('the of and')).toEqual([]);
  });

  it('hashes terms to stable unsigned 32-bit indices', () => {
    expect(termIndex('river')).toBe(termIndex('river'));
    expect(termIndex('river')).not.toBe(termIndex('rivers'));
    expect(termIndex('')).toBe(0x811c9dc5);
    for (const t of ['a', 'zeppelin', 'ünï']) {
      expect(Number.isInteger(termIndex(t))).toBe(true);
      expect(termIndex(t)).toBeGreaterThanOrEqual(0);
      expect(termIndex(t)).toBeLessThan(2 ** 32);
    }
  });

  it('weighs repeated terms more, with saturation, and long documents less', () => {
    const once = documentSparseVector('river');
    const thrice = documentSparseVector('river river river');
    const w = (v: { indices: number[]; values: number[] }, term: string) => v.values[v.indices.indexOf(termIndex(term))]!;
    expect(w(thrice, 'river')).toBeGreaterThan(w(once, 'river'));
    expect(w(thrice, 'river')).toBeLessThan(3 * w(once, 'river'));
    const long = documentSparseVector(`river ${'word '.repeat(400)}`);
    expect(w(long, 'river')).toBeLessThan(w(once, 'river'));
  });

  it('builds sorted, duplicate-free sparse vectors; queries weigh each term 1', () => {
    const q = querySparseVector('river stone river');
    expect(q.indices).toEqual([termIndex('river'), termIndex('stone')].sort((a, b) => a - b));
    expect(q.values).toEqual([1, 1]);
    const d = documentSparseVector('bb aa cc aa');
    expect([...d.indices]).toEqual([...d.indices].sort((x, y) => x - y));
    expect(new Set(d.indices).size).toBe(3);
    expect(querySparseVector('the')).toEqual({ indices: [], values: [] });
  });
});
