import { describe, expect, it } from 'vitest';
import { catalogFromPayloads } from '../../../rag/catalog';
import { extractDateRange } from '../../../rag/self-query/dates';
import { andFilters, entitiesToFilter, extractEntitiesByRules, matchAuthors, namesInByline } from '../../../rag/self-query/entities';
import { chunkPayload as payload } from './support/payload';

const NOW = new Date(Date.UTC(2026, 10, 25, 12));
const iso = (t?: number) => (t === undefined ? undefined : new Date(t).toISOString());

describe('date expressions', () => {
  it.each([
    ['articles in 2015', '2015-01-01T00:00:00.000Z', '2015-12-31T23:59:59.999Z'],
    ['what happened during March 2020?', '2020-03-01T00:00:00.000Z', '2020-03-31T23:59:59.999Z'],
    ['posts since March 2020', '2020-03-01T00:00:00.000Z', undefined],
    ['anything after 2018', '2019-01-01T00:00:00.000Z', undefined],
    ['written before 2019', undefined, '2018-12-31T23:59:59.999Z'],
    ['until May 2021 please', undefined, '2021-05-31T23:59:59.999Z'],
    ['between 2010 and 2012', '2010-01-01T00:00:00.000Z', '2012-12-31T23:59:59.999Z'],
    ['from Feb 2019 to 2021', '2019-02-01T00:00:00.000Z', '2021-12-31T23:59:59.999Z'],
    ['reviews 2015-2017', '2015-01-01T00:00:00.000Z', '2017-12-31T23:59:59.999Z'],
    ['since 2020-03-15', '2020-03-15T00:00:00.000Z', undefined],
    ['what did they say last year', '2025-01-01T00:00:00.000Z', '2025-12-31T23:59:59.999Z'],
    ['in the last 2 years', '2024-11-25T12:00:00.000Z', '2026-11-25T12:00:00.000Z'],
  ])('%s', (q, gte, lte) => {
    const r = extractDateRange(q, NOW);
    expect(r, q).toBeDefined();
    expect(iso(r!.gte)).toBe(gte);
    expect(iso(r!.lte)).toBe(lte);
  });

  it('leaves bare years, impossible dates and date-free questions alone', () => {
    expect(extractDateRange('the 2016 election and gun laws', NOW)).toBeUndefined();
    expect(extractDateRange('since 2020-13-45', NOW)).toBeUndefined();
    expect(extractDateRange('how does the fetch API work', NOW)).toBeUndefined();
    expect(extractDateRange('between 2012 and 2010', NOW)).toBeUndefined();
  });
});


const catalog = catalogFromPayloads('c', [
  payload({ docId: 'a', author: 'Nikhil Marathe', publishedTs: Date.UTC(2015, 2, 1) }),
  payload({ docId: 'b', author: 'Written by Rob Ewaschuk\n Edited by Betsy Beyer', tags: ['sre', 'monitoring'] }),
  payload({ docId: 'c', author: 'Alex Heath', sourceId: 'verge', publishedTs: Date.UTC(2023, 5, 5) }),
  payload({ docId: 'd', author: 'Last Updated: January 7, 2025', sourceType: 'git' }),
]);

describe('rule-based self-query', () => {
  it('finds names inside bylines', () => {
    expect(namesInByline('Written by Rob Ewaschuk\n Edited by Betsy Beyer')).toEqual(expect.arrayContaining(['Rob Ewaschuk', 'Betsy Beyer']));
  });

  it('matches full names, names inside bylines and unique surnames', () => {
    expect(matchAuthors('What did Nikhil Marathe write about fetch?', catalog.authors).map((m) => m.author)).toEqual(['Nikhil Marathe']);
    expect(matchAuthors('monitoring advice from Betsy Beyer', catalog.authors).map((m) => m.author)).toEqual([catalog.authors.find((a) => a.includes('Beyer'))]);
    expect(matchAuthors('What does Heath think of the headset?', catalog.authors).map((m) => m.author)).toEqual(['Alex Heath']);
    // Lower-case common words are not names: "heath" the landscape, "last updated" the phrase.
    expect(matchAuthors('walks on the heath, last updated when?', catalog.authors)).toEqual([]);
  });

  it('turns entities into a validated filter', () => {
    const e = extractEntitiesByRules('What did Alex Heath write on verge since 2020 in the repository? #sre', catalog, NOW);
    const r = entitiesToFilter(e, catalog);
    expect(r.filter?.must).toEqual([
      { field: 'author', eq: 'Alex Heath' },
      { field: 'sourceId', eq: 'verge' },
      { field: 'sourceType', eq: 'git' },
      { field: 'tags', eq: 'sre' },
      { field: 'publishedTs', range: { gte: Date.UTC(2020, 0, 1) } },
    ]);
    expect(r.ignored).toEqual([]);
  });

  it('runs unfiltered when nothing is recognised', () => {
    const r = entitiesToFilter(extractEntitiesByRules('how does the fetch API replace XHR?', catalog, NOW), catalog);
    expect(r.filter).toBeUndefined();
    expect(r.applied).toEqual([]);
  });

  it('drops values the collection does not hold, and dates when none are indexed', () => {
    const undated = catalogFromPayloads('u', [payload({ author: 'Nikhil Marathe' }), payload({ sourceId: 'other' })]);
    const r = entitiesToFilter({ authors: ['Jane Nobody', 'marathe'], sourceIds: [], sourceTypes: ['web'], tags: ['nope'], published: { gte: 0 }, evidence: [] }, undated);
    expect(r.filter?.must).toEqual([{ field: 'author', eq: 'Nikhil Marathe' }]);
    expect(r.ignored.join('\n')).toMatch(/Jane Nobody.*not in the collection/);
    expect(r.ignored.join('\n')).toMatch(/source type web: the collection holds nothing else/);
    expect(r.ignored.join('\n')).toMatch(/tag "nope"/);
    expect(r.ignored.join('\n')).toMatch(/no publication dates/);
  });

  it('ANDs filters', () => {
    expect(andFilters(undefined, { must: [{ field: 'author', eq: 'a' }] }, { must: [{ field: 'tags', in: ['x'] }] })?.must).toHaveLength(2);
    expect(andFilters(undefined, undefined)).toBeUndefined();
  });
});
