import { describe, expect, it } from 'vitest';
import { docIdFor, hashJson, pointIdFor, sha256, stableStringify } from '../../lib/hash';

describe('stable identities', () => {
  it('hashes objects independently of key order', () => {
    expect(hashJson({ a: 1, b: [1, { c: 2, d: 3 }] })).toBe(hashJson({ b: [1, { d: 3, c: 2 }], a: 1 }));
    expect(hashJson({ a: 1 })).not.toBe(hashJson({ a: 2 }));
    expect(stableStringify({ b: undefined, a: null })).toBe('{"a":null}');
  });

  it('derives point ids from docId and chunk index as UUIDv5', () => {
    const id = pointIdFor(docIdFor('https://example.com/a'), 0);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(pointIdFor(docIdFor('https://example.com/a'), 0)).toBe(id);
    expect(pointIdFor(docIdFor('https://example.com/a'), 1)).not.toBe(id);
    expect(pointIdFor(docIdFor('https://example.com/b'), 0)).not.toBe(id);
  });

  it('sha256 matches a known vector', () => {
    expect(sha256('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
