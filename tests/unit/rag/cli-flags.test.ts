import { describe, expect, it } from 'vitest';
import { askRequestFromFlags } from '../../../cli/commands/ask';
import { retrievalOptionsFromFlags } from '../../../cli/commands/search';
import { askRequestSchema, searchRequestSchema } from '../../../rag/options';

describe('retrieval flags', () => {
  it('map to request options, leaving unset techniques to the defaults', () => {
    const o = retrievalOptionsFromFlags({ collection: ['a', 'b'], limit: '3', mode: 'vector', alpha: '0.25', filter: '{"must":[{"field":"author","eq":"X"}]}', rerank: false, expansion: '2' });
    expect(o).toEqual({ collections: ['a', 'b'], limit: 3, mode: 'vector', fusion: { alpha: 0.25 }, filter: { must: [{ field: 'author', eq: 'X' }] }, rerank: false, expansion: 2 });
    expect(searchRequestSchema.parse({ query: 'q', ...o })).toBeTruthy();
    expect(retrievalOptionsFromFlags({ collection: [] })).toEqual({});
  });

  it('name the bad flag', () => {
    expect(() => retrievalOptionsFromFlags({ collection: [], filter: '{bad' })).toThrow(/^--filter: not JSON/);
    expect(() => retrievalOptionsFromFlags({ collection: [], limit: 'ten' })).toThrow(/^--limit: expected a number, got "ten"/);
    expect(() => askRequestFromFlags('q', { collection: [], budget: '1.5' })).toThrow(/^--budget: expected a whole number/);
  });

  it('build ask requests with compression and small-to-big switches', () => {
    expect(askRequestFromFlags('q', { collection: [], budget: '300', smallToBig: false })).toEqual({ question: 'q', smallToBig: false, compression: { maxTokens: 300 } });
    const off = askRequestFromFlags('q', { collection: [], compression: false });
    expect(off.compression).toBe(false);
    expect(askRequestSchema.parse(off)).toBeTruthy();
  });
});
