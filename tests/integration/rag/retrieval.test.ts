/**
 * Retrieval and generation on the real stack: the fixture corpus (47 real pages) cleaned, chunked and embedded with
 * the real MiniLM model into an embedded LanceDB store; LLM steps against a local server speaking the OpenAI
 * chat-completions wire format; re-ranking with a cross-encoder the test builds (tiny-cross-encoder.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatClient } from '../../../lib/llm';
import { LanceDBStore } from '../../../lib/vectorstore/lancedb';
import type { Embedder } from '../../../lib/embedding/types';
import type { ModelTokenizer } from '../../../lib/text';
import { CatalogCache } from '../../../rag/catalog';
import { formatSources } from '../../../rag/prompts';
import { createRag, NO_LLM_MESSAGE, type Rag } from '../../../rag/rag';
import { CrossEncoderReranker, HttpReranker } from '../../../rag/rerank';
import { startOpenAIChatServer, type OpenAIChatServer, type ReceivedChatRequest } from '../../helpers/openai-chat-server';
import { buildFixtureIndex, testEmbedder, testTokenizer, type FixtureIndex } from './support/fixture-index';
import { startRerankServer, type RerankServer } from './support/rerank-server';
import { ensureTinyCrossEncoder } from './support/tiny-cross-encoder';

const COLLECTION = 'fixture';
let dir: string;
let store: LanceDBStore;
let embedder: Embedder;
let closeEmbedder: () => Promise<void>;
let tokenizer: ModelTokenizer;
let index: FixtureIndex;
let rag: Rag;
let llmServer: OpenAIChatServer;
let crossEncoder: CrossEncoderReranker;

const pageOf = (url?: string) => (url ? new URL(url).pathname.split('/')[1] : undefined);
const pages = (hits: Array<{ payload: { url?: string } }>) => [...new Set(hits.map((h) => pageOf(h.payload.url)))];
const systemOf = (req: ReceivedChatRequest) => req.body.messages?.find((m) => m.role === 'system')?.content ?? '';
const userOf = (req: ReceivedChatRequest) => req.body.messages?.filter((m) => m.role === 'user').at(-1)?.content ?? '';

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-rag-'));
  store = new LanceDBStore({ uri: dir });
  ({ embedder, close: closeEmbedder } = await testEmbedder());
  tokenizer = await testTokenizer();
  index = await buildFixtureIndex({ store, collection: COLLECTION, embedder });
  rag = createRag({ store, embedder, tokenizer, collections: [COLLECTION] });
  llmServer = await startOpenAIChatServer();
  crossEncoder = new CrossEncoderReranker({ model: ensureTinyCrossEncoder() });
});

afterAll(async () => {
  await llmServer?.close();
  await crossEncoder?.close();
  await store?.close();
  await closeEmbedder?.();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function ragWithLlm(extra: Partial<Parameters<typeof createRag>[0]> = {}): Rag {
  const llm = new ChatClient({ baseUrl: llmServer.baseUrl, model: 'test-model', maxRetries: 0 });
  return createRag({ store, embedder, tokenizer, collections: [COLLECTION], llm, ...extra });
}

describe('the fixture index', () => {
  it('holds the corpus with parents and metadata', async () => {
    expect(index.docs.length).toBeGreaterThan(40);
    expect(await store.count(COLLECTION)).toBe(index.chunks);
    expect(index.docIdOf.has('theverge')).toBe(true);
  });
});

describe('filtered and hybrid search', () => {
  it('pushes explicit filters down: every hit matches, and the filter changes the results', async () => {
    const author = 'Alex Heath';
    const filtered = await rag.search({ query: 'a new display technology', filter: { must: [{ field: 'author', eq: author }] }, limit: 10, selfQuery: 'off' });
    expect(filtered.hits.length).toBeGreaterThan(0);
    expect(filtered.hits.every((h) => h.payload.author === author)).toBe(true);
    expect(filtered.trace.filter).toEqual({ must: [{ field: 'author', eq: author }] });

    const from = Date.UTC(2015, 0, 1);
    const to = Date.UTC(2015, 11, 31, 23, 59, 59, 999);
    const dated = await rag.search({ query: 'health and politics news', filter: { must: [{ field: 'publishedTs', range: { gte: from, lte: to } }] }, limit: 20, selfQuery: 'off' });
    expect(dated.hits.length).toBeGreaterThan(0);
    for (const h of dated.hits) {
      expect(h.payload.publishedTs).toBeGreaterThanOrEqual(from);
      expect(h.payload.publishedTs).toBeLessThanOrEqual(to);
    }
    const docIds = [index.docIdOf.get('aclu')!, index.docIdOf.get('cnet')!];
    const byDoc = await rag.search({ query: 'Facebook', mode: 'vector', filter: { must: [{ field: 'docId', in: docIds }] }, limit: 30, selfQuery: 'off' });
    expect(new Set(byDoc.hits.map((h) => h.payload.docId))).toEqual(new Set(docIds));
  });

  it('hybrid search finds an exact rare keyword that vector search misses', async () => {
    const cases: Array<[string, string]> = [
      ['ZeniMax', 'cnet'],
      ['Baikonur', 'yahoo-2'],
    ];
    for (const [word, page] of cases) {
      const vector = await rag.search({ query: word, mode: 'vector', limit: 10, selfQuery: 'off' });
      const hybrid = await rag.search({ query: word, mode: 'hybrid', limit: 10, selfQuery: 'off' });
      expect(pages(vector.hits), word).not.toContain(page);
      expect(pages(hybrid.hits)[0], word).toBe(page);
      expect(hybrid.hits[0]!.text).toContain(word);
    }
  });

  it('fuses by alpha weight when asked', async () => {
    const res = await rag.search({ query: 'ZeniMax lawsuit over virtual reality', fusion: { alpha: 0.3 }, limit: 5, selfQuery: 'off' });
    expect(pageOf(res.hits[0]!.payload.url)).toBe('cnet');
    // Alpha fusion of min-max normalised scores lies in [0, 1].
    for (const h of res.hits) expect(h.score).toBeLessThanOrEqual(1);
  });

  it('fails clearly for a collection that does not exist', async () => {
    await expect(rag.search({ query: 'x', collections: ['nope'] })).rejects.toThrow(/collection "nope" does not exist/);
  });
});

describe('the catalog of a collection', () => {
  it('lists what the collection holds, serving the previous catalog while a stale one is rebuilt', async () => {
    const name = 'catalog-test';
    const [v] = await embedder.embed(['a passage']);
    const point = (id: string, author: string) => ({ id, vector: v!, text: 'a passage', payload: { docId: id, chunkIndex: 0, parentId: id, sourceId: 's', sourceType: 'web' as const, location: id, author, tags: ['t'], headingPath: '', chunkHash: id, contentHash: id, model: 'm' } });
    await store.ensureCollection(name, { dimension: embedder.dimension, distance: 'cosine' });
    await store.upsert(name, [point('00000000-0000-4000-8000-000000000001', 'First Author')]);
    const cache = new CatalogCache(store, 0);
    expect((await cache.get(name)).authors).toEqual(['First Author']);
    await store.upsert(name, [point('00000000-0000-4000-8000-000000000002', 'Second Author')]);
    // Expired (ttl 0): the old catalog comes back at once, a rebuild starts behind it.
    expect((await cache.get(name)).authors).toEqual(['First Author']);
    cache.invalidate(name);
    const fresh = await cache.get(name);
    expect(fresh.authors).toEqual(['First Author', 'Second Author']);
    expect(fresh.points).toBe(2);
    expect(fresh.tags).toEqual(['t']);
    await store.dropCollection(name);
  });
});

describe('self-query by rules', () => {
  it('turns a named author into a filter, and leaves entity-free questions unfiltered', async () => {
    const res = await rag.search({ query: 'What did Alex Heath write about displays?', limit: 10 });
    expect(res.trace.selfQuery?.applied).toEqual(['author = Alex Heath']);
    expect(res.hits.length).toBeGreaterThan(0);
    expect(res.hits.every((h) => h.payload.author === 'Alex Heath')).toBe(true);

    const plain = await rag.search({ query: 'how do manholes catch fire', limit: 5 });
    expect(plain.trace.selfQuery?.applied).toEqual([]);
    expect(plain.trace.filter).toBeUndefined();
  });

  it('turns a year into a published-date range', async () => {
    const res = await rag.search({ query: 'articles about Facebook published in 2018', limit: 10 });
    expect(res.trace.filter?.must).toEqual([{ field: 'publishedTs', range: { gte: Date.UTC(2018, 0, 1), lte: Date.UTC(2019, 0, 1) - 1 } }]);
    expect(pages(res.hits)).toEqual(['aclu']);
  });
});

describe('re-ranking', () => {
  it('scores known pairs with the test cross-encoder as built', async () => {
    // 10 · (share of the query's content words found in the passage) − 5.
    const scores = await crossEncoder.score('fetch api', ['The Fetch API arrived.', 'An API for storage.', 'Cats sleep.']);
    expect(scores[0]).toBeCloseTo(5, 4);
    expect(scores[1]).toBeCloseTo(0, 4);
    expect(scores[2]).toBeCloseTo(-5, 4);
  });

  it('returns scores in the passages\' order whatever the batching (passages are batched by length)', async () => {
    // Lengths out of order, so the length sort really permutes them; expected: 10 · share of {fetch, api} − 5.
    const passages = ['Cats sleep all day long in the warm sun.', 'The Fetch API arrived in browsers a few years ago, replacing XHR.', 'An API.', 'fetch', 'Nothing relevant here at all, just a long sentence about gardens.'];
    const expected = [-5, 5, 0, 0, -5];
    for (const batchSize of [1, 2, 4, 32]) {
      const reranker = new CrossEncoderReranker({ model: ensureTinyCrossEncoder(), batchSize });
      const scores = await reranker.score('fetch api', passages);
      scores.forEach((s, i) => expect(s, `batchSize ${batchSize}, passage ${i}`).toBeCloseTo(expected[i]!, 4));
      await reranker.close();
    }
    expect(() => new CrossEncoderReranker({ model: 'x', batchSize: 0 })).toThrow(/batchSize must be a positive integer, got 0/);
  });

  it('reorders the candidates by the cross-encoder and keeps the best N', async () => {
    const reranked = createRag({ store, embedder, collections: [COLLECTION], reranker: crossEncoder });
    const query = 'Zuckerberg Oculus lawsuit';
    const words = ['zuckerberg', 'oculus', 'lawsuit'];
    const overlap = (text: string) => words.filter((w) => new RegExp(`\\b${w}\\b`, 'i').test(text)).length;
    const plain = await reranked.search({ query, limit: 20, candidates: 20, rerank: false, selfQuery: 'off' });
    const res = await reranked.search({ query, limit: 5, candidates: 20, rerank: true, selfQuery: 'off' });
    expect(res.trace.reranker).toMatch(/^cross-encoder:/);
    expect(res.hits).toHaveLength(5);
    // The cross-encoder's preference: more of the query's words first; retrieval order did not have that.
    const after = res.hits.map((h) => overlap(h.text));
    expect(after).toEqual([...after].sort((a, b) => b - a));
    expect(after[0]).toBe(3);
    const before = plain.hits.map((h) => overlap(h.text));
    expect(before).not.toEqual([...before].sort((a, b) => b - a));
    expect(res.hits.map((h) => h.id)).not.toEqual(plain.hits.slice(0, 5).map((h) => h.id));
    for (let i = 1; i < res.hits.length; i++) expect(res.hits[i - 1]!.rerankScore!).toBeGreaterThanOrEqual(res.hits[i]!.rerankScore!);
  });

  describe('through a rerank endpoint', () => {
    let server: RerankServer;
    beforeAll(async () => {
      // Scores prefer passages that mention "Instagram": a preference vector search does not have.
      server = await startRerankServer((query, text) => (/instagram/i.test(text) ? 1 : 0) + text.length / 1e6);
    });
    afterAll(() => server?.close());

    it.each(['tei', 'cohere'] as const)('speaks the %s wire format, retrying a 503', async (api) => {
      server.failNext(503);
      const reranker = new HttpReranker({ url: `${server.url}${api === 'tei' ? '/rerank' : '/v1/rerank'}`, model: 'test-reranker', apiKey: 'k', maxRetries: 2 });
      const r = createRag({ store, embedder, collections: [COLLECTION], reranker });
      const res = await r.search({ query: 'Facebook acquisitions', limit: 3, candidates: 30, rerank: true, selfQuery: 'off' });
      expect(res.hits[0]!.text).toMatch(/instagram/i);
      const last = server.requests.at(-1)!;
      expect(last.path).toBe(api === 'tei' ? '/rerank' : '/v1/rerank');
      expect(last.authorization).toBe('Bearer k');
      if (api === 'tei') expect(last.body).toMatchObject({ query: 'Facebook acquisitions', texts: expect.any(Array) });
      else expect(last.body).toMatchObject({ query: 'Facebook acquisitions', documents: expect.any(Array), model: 'test-reranker' });
      expect(server.failures).toBeGreaterThanOrEqual(1);
    });
  });
});

describe('context building', () => {
  it('small-to-big returns each matched chunk’s parent section, duplicates merged', async () => {
    const req = { question: 'What did Obama say about Kenya and gun laws?', limit: 8, selfQuery: 'off' as const, compression: false };
    const big = await rag.context({ ...req, smallToBig: true });
    const small = await rag.context({ ...req, smallToBig: false });
    expect(small.sources).toHaveLength(8);
    const chunkIds = big.sources.flatMap((s) => s.chunkIds);
    expect(new Set(chunkIds).size).toBe(8);
    // Several chunks of one section became one source.
    expect(big.sources.length).toBeLessThan(8);
    const parents = await store.getParents(COLLECTION, big.sources.map((s) => s.parentId!));
    for (const s of big.sources) {
      const parent = parents.find((p) => p.parentId === s.parentId);
      expect(parent, s.location).toBeDefined();
      expect(s.text).toBe(parent!.text);
      // The parent contains each matched chunk (whitespace aside).
      const flat = (t: string) => t.replace(/\s+/g, ' ').trim();
      for (const id of s.chunkIds) {
        const chunk = small.sources.find((c) => c.chunkIds[0] === id)!;
        expect(flat(s.text)).toContain(flat(chunk.text).slice(0, 60));
      }
    }
    expect(big.sources.map((s) => s.n)).toEqual(big.sources.map((_, i) => i + 1));
  });

  it('compression fits the token budget and keeps the sentences that answer', async () => {
    const question = 'What did Obama call the biggest frustration of his presidency?';
    const budget = 220;
    const res = await rag.context({ question, limit: 5, compression: { maxTokens: budget } });
    const c = res.compression!;
    expect(c.tokensBefore).toBeGreaterThan(budget);
    expect(c.tokensAfter).toBeLessThanOrEqual(budget);
    expect(c.fits).toBe(true);
    // Measured with the tokenizer on the exact text the prompt holds.
    expect(tokenizer.count(formatSources(res.sources))).toBe(c.tokensAfter);
    const text = res.sources.map((s) => s.text).join('\n');
    expect(text).toContain('common sense gun safety laws');
    expect(text).toMatch(/greatest frustration/);
  });

  it('does nothing when the context already fits', async () => {
    const res = await rag.context({ question: 'Vidyard', limit: 1, smallToBig: false, compression: { maxTokens: 5000 } });
    expect(res.compression!.tokensAfter).toBe(res.compression!.tokensBefore);
  });
});

describe('without an LLM', () => {
  it('ask returns the retrieved context and says so', async () => {
    const res = await rag.ask({ question: 'Why do manholes catch fire in New York in winter?' });
    expect(res.generated).toBe(false);
    expect(res.answer).toBeUndefined();
    expect(res.message).toBe(NO_LLM_MESSAGE);
    expect(pageOf(res.sources[0]!.url)).toBe('nytimes-3');
  });

  it('refuses LLM techniques with an error naming the option', async () => {
    await expect(rag.search({ query: 'x', expansion: 2 })).rejects.toThrow(/^expansion: needs an LLM/);
    await expect(rag.search({ query: 'x', rerank: true })).rejects.toThrow(/^rerank: no re-ranker/);
  });
});

describe('with an LLM (OpenAI chat-completions wire format)', () => {
  it('routes by an LLM classifier: "none" skips retrieval, a label for absent data searches everything', async () => {
    const r = ragWithLlm();
    llmServer.setResponder((req) => ({ content: JSON.stringify({ label: /hello/i.test(userOf(req)) ? 'none' : 'code' }) }));
    const hello = await r.search({ query: 'hello there!', routing: 'llm' });
    expect(hello.retrieval).toBe(false);
    expect(hello.hits).toEqual([]);
    expect(hello.trace.route).toMatchObject({ label: 'none', method: 'llm' });
    const code = await r.search({ query: 'how is the fetch function implemented?', routing: 'llm', limit: 3 });
    expect(code.retrieval).toBe(true);
    expect(code.trace.route?.label).toBe('code');
    expect(code.trace.route?.ignored.join(' ')).toMatch(/git: none in the collection/);
    expect(code.hits.length).toBe(3);
    const classify = llmServer.requests.at(-1)!;
    expect(systemOf(classify)).toMatch(/- none: .*\n- code: /s);
    expect(classify.body.response_format).toEqual({ type: 'json_object' });
  });

  it('routes by rules without an LLM', async () => {
    const res = await rag.search({ query: 'thanks!', routing: 'rules' });
    expect(res.retrieval).toBe(false);
    expect(res.trace.route).toMatchObject({ label: 'none', method: 'rules' });
    expect((await rag.search({ query: 'what is 12 * 7?', routing: 'rules' })).retrieval).toBe(false);
    expect((await rag.search({ query: 'Facebook privacy article', routing: 'rules', limit: 2 })).trace.route?.label).toBe('articles');
  });

  it('rewrites the query and searches with the rewrite', async () => {
    const r = ragWithLlm();
    llmServer.setResponder(() => ({ content: JSON.stringify({ query: 'Baikonur Progress cargo ship launch failure' }) }));
    const res = await r.search({ query: 'that rocket thing from Kazakhstan?', rewrite: true, limit: 3, selfQuery: 'off' });
    expect(res.trace.rewritten).toBe('Baikonur Progress cargo ship launch failure');
    expect(pageOf(res.hits[0]!.payload.url)).toBe('yahoo-2');
    expect(userOf(llmServer.requests.at(-1)!)).toBe('that rocket thing from Kazakhstan?');
  });

  it('expands the query into N reformulations and fuses their results', async () => {
    const r = ragWithLlm();
    llmServer.setResponder(() => ({ content: JSON.stringify({ queries: ['ZeniMax lawsuit against Oculus', 'Treaty of Waitangi 1840', 'ZeniMax lawsuit against Oculus'] }) }));
    const res = await r.search({ query: 'legal agreements', expansion: 2, limit: 10, selfQuery: 'off' });
    expect(res.trace.expansions).toEqual(['ZeniMax lawsuit against Oculus', 'Treaty of Waitangi 1840']);
    expect(res.trace.lists).toBe(3);
    expect(pages(res.hits)).toEqual(expect.arrayContaining(['cnet', 'wikipedia-2']));
    expect(systemOf(llmServer.requests.at(-1)!)).toMatch(/Write 2 different reformulations/);
  });

  it('extracts self-query filters with the LLM, validated against the collection', async () => {
    const r = ragWithLlm();
    llmServer.setResponder(() => ({ content: JSON.stringify({ authors: ['alex heath', 'Jane Nobody'], sources: [], sourceTypes: [], tags: ['made-up'], publishedAfter: '2023-01-01', publishedBefore: null }) }));
    const res = await r.search({ query: 'the headset review from last summer by that Verge writer', selfQuery: 'llm', limit: 5 });
    expect(res.trace.selfQuery?.method).toBe('llm');
    expect(res.trace.filter?.must).toEqual([
      { field: 'author', eq: 'Alex Heath' },
      { field: 'publishedTs', range: { gte: Date.UTC(2023, 0, 1) } },
    ]);
    expect(res.trace.selfQuery?.ignored.join('\n')).toMatch(/Jane Nobody.*\n.*made-up/s);
    expect(pages(res.hits)).toEqual(['theverge']);
    // The prompt lists what the collection actually holds.
    expect(systemOf(llmServer.requests.at(-1)!)).toContain('"Alex Heath"');
  });

  it('searches with a HyDE passage alongside the question', async () => {
    const r = ragWithLlm();
    const passage = 'The Treaty of Waitangi was signed in 1840 by representatives of the British Crown and Māori chiefs in New Zealand.';
    llmServer.setResponder(() => ({ content: passage }));
    const res = await r.search({ query: 'what was signed in 1840?', hyde: true, limit: 5, selfQuery: 'off' });
    expect(res.trace.hyde).toBe(passage);
    expect(res.trace.lists).toBe(2);
    expect(pages(res.hits)[0]).toBe('wikipedia-2');
  });

  it('keeps searching when an LLM step fails, with a warning', async () => {
    const r = ragWithLlm();
    llmServer.setResponder(() => ({ status: 400, error: { message: 'model not found' } }));
    const res = await r.search({ query: 'Vidyard video platform', rewrite: true, limit: 2 });
    expect(res.trace.rewritten).toBeUndefined();
    expect(res.trace.warnings.join(' ')).toMatch(/rewrite skipped: .*HTTP 400/);
    expect(pageOf(res.hits[0]!.payload.url)).toBe('spiceworks');
  });

  it('streams a generated answer with citations mapped to the sources it cites', async () => {
    const r = ragWithLlm();
    const answer = 'Obama said failing to pass gun safety laws was his greatest frustration [1]. He also spoke about Kenya [2][9].';
    llmServer.setResponder(() => ({ content: answer }));
    const events = [];
    for await (const ev of r.askStream({ question: 'What did Obama call the biggest frustration of his presidency?', limit: 4 })) events.push(ev);
    expect(events[0]!.type).toBe('context');
    const deltas = events.filter((e) => e.type === 'delta');
    expect(deltas.length).toBeGreaterThan(5);
    const done = events.at(-1)!;
    if (done.type !== 'done') throw new Error('no done event');
    const res = done.result;
    expect(res.answer).toBe(answer);
    expect(deltas.map((d) => (d.type === 'delta' ? d.text : '')).join('')).toBe(answer);
    expect(res.generated).toBe(true);
    expect(res.citations.map((s) => s.n)).toEqual([1, 2]);
    expect(res.invalidCitations).toEqual([9]);
    expect(res.usage?.completionTokens).toBeGreaterThan(0);
    const prompt = llmServer.requests.at(-1)!;
    expect(prompt.body.stream).toBe(true);
    expect(systemOf(prompt)).toContain(`[1] ${res.sources[0]!.title} — ${res.sources[0]!.location}`);
    expect(systemOf(prompt)).toContain('common sense gun safety laws');
    expect(userOf(prompt)).toBe('What did Obama call the biggest frustration of his presidency?');
  });
});
