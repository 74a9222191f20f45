/**
 * The retrieval HTTP API on a real socket: validation (400 naming the field), auth, SSE and NDJSON streaming of
 * answers from a local chat-completions server, the OpenAPI document, and responses that match its schemas.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatClient } from '../../../lib/llm';
import { LanceDBStore } from '../../../lib/vectorstore/lancedb';
import { askResultSchema, contextEventSchema, deltaEventSchema, searchResponseSchema } from '../../../rag/openapi';
import { createRag } from '../../../rag/rag';
import { startApi, type RunningApi } from '../../../rag/server';
import { startOpenAIChatServer, type OpenAIChatServer } from '../../helpers/openai-chat-server';
import { buildFixtureIndex, testEmbedder, testTokenizer } from './support/fixture-index';

const TOKEN = 'test-token-0123456789abcdef';
const PAGES = ['002', 'aclu', 'bbc-1', 'cnet', 'spiceworks', 'theverge'];
let dir: string;
let store: LanceDBStore;
let closeEmbedder: () => Promise<void>;
let llmServer: OpenAIChatServer;
let open: RunningApi; // no auth, no LLM
let secured: RunningApi; // bearer token, LLM

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-rag-api-'));
  store = new LanceDBStore({ uri: dir });
  const { embedder, close } = await testEmbedder();
  closeEmbedder = close;
  await buildFixtureIndex({ store, collection: 'pages', embedder, pages: PAGES });
  const tokenizer = await testTokenizer();
  llmServer = await startOpenAIChatServer({ respond: () => ({ content: 'Vidyard added a Zoom integration [1].' }) });
  const llm = new ChatClient({ baseUrl: llmServer.baseUrl, model: 'test-model', maxRetries: 0 });
  open = await startApi(createRag({ store, embedder, tokenizer, collections: ['pages'] }), { port: 0 });
  secured = await startApi(createRag({ store, embedder, tokenizer, collections: ['pages'], llm }), { port: 0, token: TOKEN });
});

afterAll(async () => {
  await open?.close();
  await secured?.close();
  await llmServer?.close();
  await store?.close();
  await closeEmbedder?.();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function post(api: RunningApi, route: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${api.url}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}
const auth = { authorization: `Bearer ${TOKEN}` };

/** Parses a Server-Sent Events body into (event, data) pairs. */
function parseSse(text: string): Array<{ event: string; data: unknown }> {
  return text
    .split(/\n\n+/)
    .filter((block) => block.trim())
    .map((block) => {
      const lines = block.split('\n');
      const event = lines.find((l) => l.startsWith('event:'))?.slice(6).trim() ?? 'message';
      const data = lines
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).replace(/^ /, ''))
        .join('\n');
      return { event, data: JSON.parse(data) as unknown };
    });
}

describe('POST /v1/search', () => {
  it('returns ranked hits in the documented shape', async () => {
    const res = await post(open, '/v1/search', { query: 'Vidyard video platform', limit: 3 });
    expect(res.status).toBe(200);
    const body = searchResponseSchema.parse(await res.json());
    expect(body.hits).toHaveLength(3);
    expect(body.hits[0]!.payload.url).toMatch(/\/spiceworks\/$/);
  });

  it.each([
    [{ query: '', limit: 0 }, ['query', 'limit']],
    [{ query: 'x', mode: 'fuzzy' }, ['mode']],
    [{ query: 'x', filter: { must: [{ field: 'colour', eq: 'red' }] } }, ['filter.must.0']],
    [{ query: 'x', fusion: { alpha: 2 } }, ['fusion']],
    [{ query: 'x', limt: 3 }, ['limt']],
    [{ limit: 3 }, ['query']],
  ])('rejects %j with a 400 naming %j', async (body, fields) => {
    const res = await post(open, '/v1/search', body);
    expect(res.status).toBe(400);
    const json = (await res.json()) as { error: string; issues: Array<{ path: string; message: string }> };
    for (const f of fields) expect(json.error).toContain(f);
    expect(json.issues.length).toBeGreaterThan(0);
  });

  it('rejects a body that is not JSON, or not declared as JSON', async () => {
    const bad = await post(open, '/v1/search', '{"query": ');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/not valid JSON/);
    const text = await fetch(`${open.url}/v1/search`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"query":"x"}' });
    expect(text.status).toBe(400);
    expect(((await text.json()) as { error: string }).error).toMatch(/Content-Type: application\/json/);
  });

  it('answers 400 for a technique the deployment lacks and 404 for an unknown collection', async () => {
    const rerank = await post(open, '/v1/search', { query: 'x', rerank: true });
    expect(rerank.status).toBe(400);
    expect(((await rerank.json()) as { error: string }).error).toMatch(/^rerank: no re-ranker/);
    const missing = await post(open, '/v1/search', { query: 'x', collections: ['absent'] });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: string }).error).toMatch(/"absent" does not exist/);
  });
});

describe('auth', () => {
  it('requires the bearer token on /v1/* when one is configured', async () => {
    expect((await post(secured, '/v1/search', { query: 'x' })).status).toBe(401);
    expect((await post(secured, '/v1/search', { query: 'x' }, { authorization: 'Bearer wrong-token-wrong-token' })).status).toBe(401);
    const unauthorised = await post(secured, '/v1/ask', { question: 'x' }, { authorization: 'Bearer not-the-token' });
    expect(unauthorised.status).toBe(401);
    expect(unauthorised.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await unauthorised.json()).toEqual({ error: 'invalid bearer token' });
    // Not a bearer scheme at all: a malformed request (RFC 6750).
    expect((await post(secured, '/v1/ask', { question: 'x' }, { authorization: TOKEN })).status).toBe(400);
    const ok = await post(secured, '/v1/search', { query: 'Vidyard', limit: 1 }, auth);
    expect(ok.status).toBe(200);
    // The document and the health check stay public.
    expect((await fetch(`${secured.url}/openapi.json`)).status).toBe(200);
    expect((await fetch(`${secured.url}/healthz`)).status).toBe(200);
  });
});

describe('POST /v1/ask', () => {
  it('streams Server-Sent Events: the context, the answer in pieces, then the result', async () => {
    const res = await post(secured, '/v1/ask', { question: 'What did Vidyard add?', limit: 3 }, auth);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = parseSse(await res.text());
    expect(events[0]!.event).toBe('context');
    contextEventSchema.parse(events[0]!.data);
    const deltas = events.filter((e) => e.event === 'delta').map((e) => deltaEventSchema.parse(e.data).text);
    expect(deltas.length).toBeGreaterThan(3);
    expect(deltas.join('')).toBe('Vidyard added a Zoom integration [1].');
    const done = events.at(-1)!;
    expect(done.event).toBe('done');
    const result = askResultSchema.parse(done.data);
    expect(result.generated).toBe(true);
    expect(result.citations.map((c) => c.n)).toEqual([1]);
    expect(result.citations[0]!.url).toMatch(/\/spiceworks\/$/);
  });

  it('streams NDJSON when asked for it', async () => {
    const res = await post(secured, '/v1/ask', { question: 'What did Vidyard add?', limit: 2 }, { ...auth, accept: 'application/x-ndjson' });
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; result?: unknown });
    expect(lines[0]!.type).toBe('context');
    expect(lines.filter((l) => l.type === 'delta').length).toBeGreaterThan(3);
    expect(lines.at(-1)!.type).toBe('done');
    askResultSchema.parse(lines.at(-1)!.result);
  });

  it('answers with one JSON object when stream is false, and says so when no LLM is configured', async () => {
    const res = await post(open, '/v1/ask', { question: 'What did Vidyard add?', stream: false, limit: 2 });
    expect(res.status).toBe(200);
    const result = askResultSchema.parse(await res.json());
    expect(result.generated).toBe(false);
    expect(result.message).toMatch(/No LLM is configured/);
    expect(result.sources.length).toBeGreaterThan(0);
  });

  it('gets its 4xx before any stream starts', async () => {
    const res = await post(open, '/v1/ask', { question: 'x', hyde: true });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/^hyde: needs an LLM/);
    const bad = await post(open, '/v1/ask', { question: 'x', compression: { maxTokens: 2 } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain('compression');
  });
});

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3.1 document generated from the request schemas', async () => {
    const doc = (await (await fetch(`${secured.url}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { security?: unknown[] }>>;
      components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }>; securitySchemes?: unknown };
      servers: Array<{ url: string }>;
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/search', '/v1/ask', '/openapi.json']));
    expect(doc.paths['/v1/search']!.post!.security).toEqual([{ bearer: [] }]);
    expect(doc.components.securitySchemes).toEqual({ bearer: { type: 'http', scheme: 'bearer' } });
    expect(doc.components.schemas.SearchRequest!.required).toEqual(['query']);
    expect(Object.keys(doc.components.schemas.AskRequest!.properties!)).toEqual(expect.arrayContaining(['question', 'rerank', 'expansion', 'selfQuery', 'hyde', 'smallToBig', 'compression']));
    expect(doc.servers[0]!.url).toBe(secured.url);
    const unauthenticated = (await (await fetch(`${open.url}/openapi.json`)).json()) as { components: { securitySchemes?: unknown } };
    expect(unauthenticated.components.securitySchemes).toBeUndefined();
  });
});
