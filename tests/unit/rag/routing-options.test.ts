import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { catalogFromPayloads } from '../../../rag/catalog';
import { pageOf, parseQuerySet, resolveRelevance } from '../../../rag/eval/queries';
import { askRequestSchema, DEFAULTS, OptionUnavailableError, resolveAskOptions, resolveRetrievalOptions, searchRequestSchema } from '../../../rag/options';
import { decide, DEFAULT_ROUTING, loadRoutingConfig, routeByRules } from '../../../rag/routing';
import { chunkPayload as payload } from './support/payload';


describe('routing rules', () => {
  it.each([
    ['hello!', 'none'],
    ['Thanks', 'none'],
    ['what is 12 * 7?', 'none'],
    ['how is the retry function implemented?', 'code'],
    ['which blog posts mention Kubernetes?', 'articles'],
    ['hello, how does the fetch API work?', 'all'],
  ])('%s → %s', (q, label) => {
    expect(routeByRules(q, DEFAULT_ROUTING).route.label).toBe(label);
  });

  it('validates route source types against the collection', () => {
    const code = DEFAULT_ROUTING.routes.find((r) => r.label === 'code')!;
    const articles = DEFAULT_ROUTING.routes.find((r) => r.label === 'articles')!;
    const mixed = catalogFromPayloads('c', [payload({ sourceType: 'web' }), payload({ sourceType: 'git' })]);
    expect(decide(code, 'x', 'rules', mixed).filter).toEqual({ must: [{ field: 'sourceType', eq: 'git' }] });
    const webOnly = catalogFromPayloads('c', [payload({ sourceType: 'web' })]);
    const d = decide(code, 'x', 'rules', webOnly);
    expect(d.filter).toBeUndefined();
    expect(d.ignored[0]).toMatch(/none in the collection/);
    expect(decide(articles, 'x', 'rules', webOnly).ignored[0]).toMatch(/holds nothing else/);
  });

  it('loads routes from YAML and names what is wrong', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'routes-'));
    const good = path.join(dir, 'good.yaml');
    fs.writeFileSync(good, 'fallback: all\nroutes:\n  - { label: docs, description: documentation, patterns: ["\\\\bdocs?\\\\b"], collections: [docs] }\n  - { label: all, description: everything }\n');
    const cfg = loadRoutingConfig(good);
    expect(routeByRules('where are the docs', cfg).route.collections).toEqual(['docs']);
    const bad = path.join(dir, 'bad.yaml');
    fs.writeFileSync(bad, 'fallback: nowhere\nroutes:\n  - { label: a, description: x, patterns: ["("] }\n');
    expect(() => loadRoutingConfig(bad)).toThrow(/routes\.0\.patterns\.0: invalid regular expression.*fallback: not one of the route labels/s);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('request options', () => {
  const caps = { llm: false, reranker: false };
  it('fills the measured defaults, adjusted to what the deployment has', () => {
    const o = resolveRetrievalOptions(searchRequestSchema.parse({ query: 'q' }), caps, ['c']);
    expect(o).toMatchObject({ collections: ['c'], limit: DEFAULTS.limit, mode: 'hybrid', fusion: 'rrf', selfQuery: 'rules', rerank: false, expansion: 0, hyde: false });
    expect(resolveRetrievalOptions(searchRequestSchema.parse({ query: 'q' }), { llm: true, reranker: true }, ['c']).rerank).toBe(true);
    const a = resolveAskOptions(askRequestSchema.parse({ question: 'q' }), caps, ['c'], 1234);
    expect(a).toMatchObject({ smallToBig: true, compressionTokens: 1234 });
    expect(resolveAskOptions(askRequestSchema.parse({ question: 'q', compression: false }), caps, ['c'], 1234).compressionTokens).toBeUndefined();
  });

  it('refuses what the deployment cannot do, naming the option', () => {
    const err = (() => {
      try {
        resolveRetrievalOptions(searchRequestSchema.parse({ query: 'q', selfQuery: 'llm' }), caps, ['c']);
      } catch (e) {
        return e as OptionUnavailableError;
      }
    })();
    expect(err).toBeInstanceOf(OptionUnavailableError);
    expect(err?.field).toBe('selfQuery');
    expect(() => resolveRetrievalOptions(searchRequestSchema.parse({ query: 'q', mode: 'keyword', hyde: true }), { llm: true, reranker: false }, ['c'])).toThrow(/^hyde: .*keyword/);
  });

  it('rejects unknown fields and bad filters with their path', () => {
    const r = searchRequestSchema.safeParse({ query: 'q', filter: { must: [{ field: 'author', eq: 'x', in: ['y'] }] }, colections: ['x'] });
    expect(r.success).toBe(false);
    const paths = r.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['filter.must.0']));
    expect(r.error!.issues.some((i) => i.message.includes('colections'))).toBe(true);
  });
});

describe('labelled query sets', () => {
  it('parses JSON Lines, naming the line and field of a mistake', () => {
    expect(parseQuerySet('{"id":"a","query":"q","relevantPages":["p"]}\n\n')).toHaveLength(1);
    expect(() => parseQuerySet('{"id":"a","query":"q"}', 'set.jsonl')).toThrow(/set\.jsonl:1: .*relevantDocIds or relevantPages/);
    expect(() => parseQuerySet('{"id":"a","query":"q","relevantPages":["p"]}\n{"id":"a","query":"r","relevantPages":["p"]}', 's')).toThrow(/s:2: duplicate id "a"/);
    expect(() => parseQuerySet('nope', 's')).toThrow(/s:1: not JSON/);
  });

  it('maps page labels to docIds through the URLs in the collection', () => {
    const catalog = catalogFromPayloads('c', [payload({ docId: 'd1', url: 'http://127.0.0.1:4312/aclu/' }), payload({ docId: 'd2', url: 'http://127.0.0.1:4312/cnn/' })]);
    const { queries, warnings } = resolveRelevance(parseQuerySet('{"id":"a","query":"q","relevantPages":["aclu","gone"]}\n{"id":"b","query":"q","relevantPages":["gone"]}'), catalog);
    expect(queries).toHaveLength(1);
    expect([...queries[0]!.relevant]).toEqual(['d1']);
    expect(warnings).toEqual(['a: page "gone" is not in the collection', 'b: page "gone" is not in the collection', 'b: skipped, none of its relevant documents is in the collection']);
    expect(pageOf('/srv/folder/notes/a.md')).toBe('srv');
  });
});
