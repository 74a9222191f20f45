import { describe, expect, it } from 'vitest';
import { FilterError, filterMatchesNothing, sqlString, toLanceSql, validateFilter } from '../../../lib/vectorstore/filter';
import { qdrantFilterFor } from '../../../lib/vectorstore/qdrant';
import type { Filter } from '../../../lib/vectorstore/types';

describe('toLanceSql', () => {
  it('translates each condition kind, quoting camelCase columns', () => {
    const filter: Filter = {
      must: [
        { field: 'docId', eq: 'a' },
        { field: 'sourceType', in: ['web', 'git'] },
        { field: 'publishedTs', range: { gte: 10, lte: 20 } },
        { field: 'tags', eq: 'ml' },
        { field: 'tags', in: ['x', 'y'] },
        { field: 'publishedTs', eq: 5 },
      ],
    };
    expect(toLanceSql(filter)).toBe(
      "`docId` = 'a' AND `sourceType` IN ('web', 'git') AND (`publishedTs` >= 10 AND `publishedTs` <= 20) AND array_has(`tags`, 'ml') AND array_has_any(`tags`, ['x', 'y']) AND `publishedTs` = 5",
    );
    expect(toLanceSql({ must: [{ field: 'publishedTs', range: { lte: 3 } }] })).toBe('(`publishedTs` <= 3)');
  });

  it('returns undefined for no filter or no conditions; an empty "in" is FALSE', () => {
    expect(toLanceSql(undefined)).toBeUndefined();
    expect(toLanceSql({ must: [] })).toBeUndefined();
    expect(toLanceSql({ must: [{ field: 'docId', in: [] }] })).toBe('FALSE');
    expect(filterMatchesNothing({ must: [{ field: 'docId', in: [] }] })).toBe(true);
    expect(filterMatchesNothing({ must: [{ field: 'docId', in: ['a'] }] })).toBe(false);
    expect(filterMatchesNothing(undefined)).toBe(false);
  });

  it('escapes quotes so a value cannot leave its string literal', () => {
    expect(sqlString("it's")).toBe("'it''s'");
    expect(toLanceSql({ must: [{ field: 'docId', eq: "x' OR '1'='1" }] })).toBe("`docId` = 'x'' OR ''1''=''1'");
    expect(toLanceSql({ must: [{ field: 'tags', in: ["a'); DROP TABLE t; --"] }] })).toBe("array_has_any(`tags`, ['a''); DROP TABLE t; --'])");
  });
});

describe('validateFilter', () => {
  const bad: Array<[string, unknown, RegExp]> = [
    ['an unknown field', { must: [{ field: 'secret', eq: 'x' }] }, /unknown field "secret"; filterable fields are docId/],
    ['a string for a number field', { must: [{ field: 'publishedTs', eq: '2024' }] }, /"publishedTs" takes finite numbers/],
    ['a number for a string field', { must: [{ field: 'docId', in: ['a', 3] }] }, /"docId" takes strings/],
    ['a boolean', { must: [{ field: 'docId', eq: true }] }, /takes strings/],
    ['a range on a string field', { must: [{ field: 'author', range: { gte: 1 } }] }, /range applies only to publishedTs/],
    ['an empty range', { must: [{ field: 'publishedTs', range: {} }] }, /range needs gte and\/or lte/],
    ['an infinite bound', { must: [{ field: 'publishedTs', range: { gte: Infinity } }] }, /finite numbers/],
    ['two operators', { must: [{ field: 'docId', eq: 'a', in: ['b'] }] }, /exactly one of eq, in, range/],
    ['no operator', { must: [{ field: 'docId' }] }, /exactly one of eq, in, range/],
    ['no must list', { should: [] }, /expected \{ must: Condition\[\] \}/],
  ];
  for (const [label, filter, message] of bad) {
    it(`rejects ${label}`, () => {
      expect(() => validateFilter(filter as Filter)).toThrow(FilterError);
      expect(() => validateFilter(filter as Filter)).toThrow(message);
    });
  }
  it('accepts every well-formed kind', () => {
    expect(() => validateFilter({ must: [{ field: 'url', eq: 'u' }, { field: 'publishedTs', range: { gte: 0 } }, { field: 'language', in: [] }] })).not.toThrow();
  });
});

describe('Qdrant filters', () => {
  it('uses match for strings and tags, closed ranges for numbers', () => {
    expect(
      qdrantFilterFor({
        must: [
          { field: 'docId', eq: 'a' },
          { field: 'tags', in: ['x', 'y'] },
          { field: 'publishedTs', range: { gte: 1 } },
          { field: 'publishedTs', eq: 5 },
          { field: 'publishedTs', in: [1, 2] },
        ],
      }),
    ).toEqual({
      must: [
        { key: 'docId', match: { value: 'a' } },
        { key: 'tags', match: { any: ['x', 'y'] } },
        { key: 'publishedTs', range: { gte: 1, lte: undefined } },
        { key: 'publishedTs', range: { gte: 5, lte: 5 } },
        { should: [{ key: 'publishedTs', range: { gte: 1, lte: 1 } }, { key: 'publishedTs', range: { gte: 2, lte: 2 } }] },
      ],
    });
    expect(qdrantFilterFor({ must: [] })).toBeUndefined();
    expect(() => qdrantFilterFor({ must: [{ field: 'nope' as never, eq: 'x' }] })).toThrow(/unknown field/);
  });
});
