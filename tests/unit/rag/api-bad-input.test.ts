/**
 * The retrieval API (`twinflow serve`, rag/server.ts) against requests it must refuse: a body over the limit
 * (declared, or streamed without a Content-Length), bodies that are not JSON objects, limits out of range, an unknown
 * collection on /v1/ask, routes and methods it does not serve. Every refusal is JSON with an `error` and no stack
 * trace. A real server on 127.0.0.1 over a real (empty) LanceDB store and the local MiniLM embedder.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../lib/config';
import { LocalEmbedder } from '../../../lib/embedding';
import { LanceDBStore } from '../../../lib/vectorstore/lancedb';
import { createRag } from '../../../rag/rag';
import { DEFAULT_MAX_BODY_BYTES, type RunningApi, startApi } from '../../../rag/server';
import { postChunked } from '../../helpers/raw-http';

let dir: string;
let store: LanceDBStore;
let api: RunningApi;
let small: RunningApi;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-api-bad-'));
  store = new LanceDBStore({ uri: dir });
  const embedder = await LocalEmbedder.create({ model: 'all-MiniLM-L6-v2', modelsDir: path.join(PROJECT_ROOT, '.twinflow', 'models'), allowRemote: false });
  const rag = createRag({ store, embedder, collections: ['notes'] });
  api = await startApi(rag, { port: 0 });
  small = await startApi(rag, { port: 0, maxBodyBytes: 2000 });
});

afterAll(async () => {
  await api?.close();
  await small?.close();
  await store?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function post(base: RunningApi, route: string, body: string | Buffer, headers: Record<string, string> = {}) {
  const res = await fetch(`${base.url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', json: JSON.parse(text) as { error: string; issues?: Array<{ path: string }> }, text };
}

/** A valid search request padded to about `bytes` with a long (but too long) query. */
const padded = (bytes: number) => Buffer.from(JSON.stringify({ query: 'x'.repeat(bytes) }));

describe('POST /v1/* with a body over the limit', () => {
  it(`answers 413 with a JSON error naming the limit (${DEFAULT_MAX_BODY_BYTES} bytes by default), on search and ask`, async () => {
    expect(DEFAULT_MAX_BODY_BYTES).toBe(1024 * 1024);
    for (const route of ['/v1/search', '/v1/ask']) {
      const res = await post(api, route, padded(2 * 1024 * 1024));
      expect(res.status).toBe(413);
      expect(res.type).toMatch(/^application\/json/);
      expect(res.json).toEqual({ error: `request body too large: the limit is ${DEFAULT_MAX_BODY_BYTES} bytes` });
      // The unread rest of the body ends that connection (Connection: close), so the client's next request, on a
      // fresh connection, is answered instead of failing with "other side closed".
      const next = await post(api, route, '[]');
      expect(next.status).toBe(400);
    }
  });

  it('holds the limit for a body streamed without a Content-Length', async () => {
    const res = await postChunked(`${api.url}/v1/search`, { 'content-type': 'application/json' }, padded(3 * 1024 * 1024));
    expect(res.status).toBe(413);
    expect(res.headers.connection).toBe('close');
    expect(JSON.parse(res.body)).toEqual({ error: `request body too large: the limit is ${DEFAULT_MAX_BODY_BYTES} bytes` });
  });

  it('applies a configured limit, and a body just under it is read (and then validated)', async () => {
    expect((await post(small, '/v1/search', padded(3000))).json).toEqual({ error: 'request body too large: the limit is 2000 bytes' });
    const under = await post(small, '/v1/search', padded(1500));
    // Read, parsed, validated and searched: the collection it asks for is what is missing.
    expect(under.status).toBe(404);
    expect(under.json.error).toMatch(/"notes" does not exist/);
  });
});

describe('POST /v1/* with bodies that are not requests', () => {
  it('answers 400 for an empty body and broken JSON on ask, as on search', async () => {
    for (const body of ['', '{"question": "why', '{"question": "x",}']) {
      const res = await post(api, '/v1/ask', body);
      expect(res.status).toBe(400);
      expect(res.json.error).toMatch(/^invalid request: \(body\): not valid JSON: /);
    }
  });

  it('answers 400 for JSON that is not an object, naming the body', async () => {
    for (const body of ['[]', 'null', '"what is twinflow?"', '42']) {
      const res = await post(api, '/v1/search', body);
      expect(res.status).toBe(400);
      expect(res.json.issues?.[0]?.path).toBe('(body)');
    }
  });

  it('answers 400 naming the field for a limit that is negative, zero-sized or huge, and an over-long query', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ query: 'x', limit: -1 }, 'limit'],
      [{ query: 'x', limit: 1_000_000 }, 'limit'],
      [{ query: 'x', limit: 2.5 }, 'limit'],
      [{ query: 'x', candidates: 100_000 }, 'candidates'],
      [{ query: 'x'.repeat(4001) }, 'query'],
      [{ query: 'x', collections: [] }, 'collections'],
    ];
    for (const [body, field] of cases) {
      const res = await post(api, '/v1/search', JSON.stringify(body));
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.issues?.map((i) => i.path)).toContain(field);
    }
    const ask = await post(api, '/v1/ask', JSON.stringify({ question: 'x', maxAnswerTokens: 10_000_000 }));
    expect(ask.status).toBe(400);
    expect(ask.json.error).toContain('maxAnswerTokens');
  });
});

describe('requests the API does not serve', () => {
  it('answers an unknown collection on /v1/ask with 404 before any stream starts', async () => {
    for (const stream of [true, false]) {
      const res = await post(api, '/v1/ask', JSON.stringify({ question: 'what is in here?', collections: ['absent'], stream }));
      expect(res.status).toBe(404);
      expect(res.type).toMatch(/^application\/json/);
      expect(res.json.error).toMatch(/"absent" does not exist/);
    }
  });

  it('answers an unknown route or method with a JSON 404', async () => {
    const get = await fetch(`${api.url}/v1/search`);
    expect(get.status).toBe(404);
    expect(await get.json()).toEqual({ error: 'no route GET /v1/search' });
    const typo = await post(api, '/v1/serch', '{"query":"x"}');
    expect(typo.status).toBe(404);
    expect(typo.json).toEqual({ error: 'no route POST /v1/serch' });
  });

  it('never sends a stack trace', async () => {
    for (const [route, body] of [
      ['/v1/search', '{'],
      ['/v1/search', '{"query":"x","collections":["absent"]}'],
      ['/v1/ask', '{"question":"x","collections":["absent"],"stream":false}'],
    ] as const) {
      const res = await post(api, route, body);
      expect(res.text).not.toMatch(/\n\s+at |\.ts:\d+/);
    }
  });
});
