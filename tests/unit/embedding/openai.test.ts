/** OpenAIEmbedder against a real local HTTP server speaking the OpenAI embeddings wire format. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddingError, OpenAIEmbedder, embeddingsUrl } from '../../../lib/embedding/openai';
import { dot } from '../../../lib/embedding/vector';
import { fakeEmbedding, type OpenAIServer, startOpenAIServer } from '../../helpers/openai-server';

let server: OpenAIServer;
beforeEach(async () => {
  server = await startOpenAIServer({ dimension: 16, apiKey: 'sk-test' });
});
afterEach(async () => {
  await server.close();
});

const embedder = (o: Partial<ConstructorParameters<typeof OpenAIEmbedder>[0]> = {}) =>
  new OpenAIEmbedder({ baseUrl: server.baseUrl, apiKey: 'sk-test', model: 'text-embedding-3-small', initialBackoffMs: 1, maxBackoffMs: 5, ...o });
/** Vectors equal up to float rounding (the client re-normalises what the server sends). */
function expectClose(actual: number[][], expected: number[][]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((v, i) => {
    expect(v).toHaveLength(expected[i]!.length);
    v.forEach((x, j) => expect(x).toBeCloseTo(expected[i]![j]!, 12));
  });
}
type EmbeddingsBody = { model: string; input: string[]; encoding_format?: string };
const bodies = () => server.requestsTo('/v1/embeddings').map((r) => r.body as EmbeddingsBody);

describe('OpenAIEmbedder', () => {
  it('sends the OpenAI request shape and returns vectors in input order (the server answers out of order)', async () => {
    const texts = ['red apples', 'green pears', 'red cherries'];
    const vectors = await embedder().embed(texts);
    expectClose(vectors, texts.map((t) => fakeEmbedding(t, 16)));
    const [req] = server.requestsTo('/v1/embeddings');
    expect(req!.headers.authorization).toBe('Bearer sk-test');
    expect(req!.headers['content-type']).toBe('application/json');
    expect(req!.body).toEqual({ model: 'text-embedding-3-small', input: texts, encoding_format: 'float' });
    // The fake embeds words, so shared words show as similarity.
    expect(dot(vectors[0]!, vectors[2]!)).toBeGreaterThan(dot(vectors[0]!, vectors[1]!));
  });

  it('splits inputs into batches of batchSize', async () => {
    const texts = Array.from({ length: 10 }, (_, i) => `text number ${i}`);
    const vectors = await embedder({ batchSize: 3 }).embed(texts);
    expect(vectors).toHaveLength(10);
    expect(bodies().map((b) => b.input.length).sort()).toEqual([1, 3, 3, 3]);
    expect(bodies().flatMap((b) => b.input).sort()).toEqual([...texts].sort());
    expectClose([vectors[7]!], [fakeEmbedding('text number 7', 16)]);
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    await server.close();
    server = await startOpenAIServer({ dimension: 8, delayMs: 40 });
    await embedder({ batchSize: 1, concurrency: 3, apiKey: undefined }).embed(Array.from({ length: 9 }, (_, i) => `t${i}`));
    expect(server.requestsTo('/v1/embeddings')).toHaveLength(9);
    expect(server.maxInFlight).toBe(3);
  });

  it('retries 429, 5xx and dropped connections, then succeeds', async () => {
    server.failNext({ status: 429, headers: { 'retry-after': '0' } }, { status: 503 }, { dropConnection: true });
    const vectors = await embedder().embed(['hello world']);
    expectClose(vectors, [fakeEmbedding('hello world', 16)]);
    expect(server.requestsTo('/v1/embeddings')).toHaveLength(4);
  });

  it('waits as long as Retry-After says, not its own backoff', async () => {
    server.failNext({ status: 429, headers: { 'retry-after': '1' } });
    const started = performance.now();
    await embedder({ initialBackoffMs: 1 }).embed(['x']);
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    // ...and a Retry-After of 0 beats a long computed backoff.
    server.failNext({ status: 429, headers: { 'retry-after': '0' } });
    const again = performance.now();
    await embedder({ initialBackoffMs: 60_000, maxBackoffMs: 60_000 }).embed(['y']);
    expect(performance.now() - again).toBeLessThan(900);
  });

  it('retries a request that times out', async () => {
    server.failNext({ status: 200, delayMs: 400 });
    expectClose(await embedder({ timeoutMs: 100 }).embed(['slow']), [fakeEmbedding('slow', 16)]);
    expect(server.requestsTo('/v1/embeddings')).toHaveLength(2);
  });

  it('gives up after maxRetries with the last error, marked retryable', async () => {
    server.failNext({ status: 500, message: 'model overloaded' }, { status: 500, message: 'model overloaded' }, { status: 500, message: 'model overloaded' });
    const err = await embedder({ maxRetries: 2 }).embed(['x']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmbeddingError);
    expect((err as EmbeddingError).message).toMatch(/failed after 3 attempts; last error: HTTP 500: model overloaded/);
    expect((err as EmbeddingError).retryable).toBe(true);
  });

  it('explains a bad API key (401) without retrying', async () => {
    const err = await embedder({ apiKey: 'sk-wrong' }).embed(['x']).catch((e: unknown) => e);
    expect((err as EmbeddingError).message).toMatch(/401 Unauthorized: the API key was rejected; check EMBEDDING_API_KEY\. Server said: Incorrect API key/);
    expect((err as EmbeddingError).retryable).toBe(false);
    expect((err as EmbeddingError).status).toBe(401);
    expect(server.requestsTo('/v1/embeddings')).toHaveLength(1);
    const none = await embedder({ apiKey: undefined }).embed(['x']).catch((e: unknown) => e);
    expect((none as Error).message).toMatch(/no API key was sent; set EMBEDDING_API_KEY/);
  });

  it("passes a 400's server message on, without retrying", async () => {
    await server.close();
    server = await startOpenAIServer({ maxInputs: 2 });
    const err = await embedder({ batchSize: 5, apiKey: undefined }).embed(['a', 'b', 'c']).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/rejected by .*\/v1\/embeddings \(model text-embedding-3-small\) with HTTP 400: 'input' must have at most 2 items, got 3/);
    expect(server.requests).toHaveLength(1);
    const notFound = await new OpenAIEmbedder({ baseUrl: `${server.url}/nope`, model: 'm' }).embed(['a']).catch((e: unknown) => e);
    expect((notFound as Error).message).toMatch(/404: check EMBEDDING_BASE_URL and EMBEDDING_MODEL/);
  });

  it('learns the dimension from a probe, or checks a given one', async () => {
    const created = await OpenAIEmbedder.create({ baseUrl: server.baseUrl, apiKey: 'sk-test', model: 'm' });
    expect(created.dimension).toBe(16);
    expect(server.requestsTo('/v1/embeddings')).toHaveLength(1);
    expect(() => embedder().dimension).toThrow(/not known yet/);
    await expect(embedder({ dimension: 384 }).embed(['x'])).rejects.toThrow(/answered a 16-dimensional embedding, expected 384/);
  });

  it('normalises vectors and adds query/document prefixes, which are part of the model id', async () => {
    server.route('POST', '/v1/embeddings', (req) => {
      const input = (req.body as EmbeddingsBody).input;
      return { body: { object: 'list', data: input.map((_, index) => ({ object: 'embedding', index, embedding: [3, 4] })), model: 'm', usage: {} } };
    });
    const e = embedder({ queryPrefix: 'query: ', documentPrefix: 'passage: ' });
    expect(await e.embedQuery('cats')).toEqual([0.6, 0.8]);
    await e.embed(['dogs']);
    expect(bodies().map((b) => b.input[0])).toEqual(['query: cats', 'passage: dogs']);
    expect(e.modelId).toBe('openai:text-embedding-3-small:q="query: ":d="passage: "');
    expect(embedder().modelId).toBe('openai:text-embedding-3-small');
  });

  it('rejects malformed answers clearly', async () => {
    server.route('POST', '/v1/embeddings', () => ({ body: { object: 'list', data: [{ index: 0, embedding: 'AAAA' }] } }));
    await expect(embedder().embed(['x'])).rejects.toThrow(/not a list of numbers/);
    server.route('POST', '/v1/embeddings', () => ({ body: { object: 'list', data: [] } }));
    await expect(embedder().embed(['x'])).rejects.toThrow(/answered 0 embeddings for 1 inputs/);
  });

  it('sends no key of the environment’s (OPENAI_API_KEY) when none is configured, and asks for float vectors', async () => {
    await server.close();
    server = await startOpenAIServer({ dimension: 4 });
    const saved = process.env.OPENAI_API_KEY;
    process.env.OPENAI_API_KEY = 'sk-env-leak';
    try {
      await embedder({ apiKey: undefined }).embed(['x']);
    } finally {
      if (saved === undefined) delete process.env.OPENAI_API_KEY;
      else process.env.OPENAI_API_KEY = saved;
    }
    const [req] = server.requestsTo('/v1/embeddings');
    expect(req!.headers.authorization).toBeUndefined();
    expect((req!.body as EmbeddingsBody).encoding_format).toBe('float');
  });

  it('reports a connection failure after the retries, with the system error, marked retryable', async () => {
    server.failNext({ dropConnection: true }, { dropConnection: true });
    const err = await embedder({ maxRetries: 1 }).embed(['x']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmbeddingError);
    expect((err as EmbeddingError).message).toMatch(/failed after 2 attempts; last error: .+/);
    expect((err as EmbeddingError).retryable).toBe(true);
    expect(server.requestsTo('/v1/embeddings')).toHaveLength(2);
  });

  it('builds the endpoint from base URLs with or without /v1', () => {
    expect(embeddingsUrl('https://api.openai.com/v1')).toBe('https://api.openai.com/v1/embeddings');
    expect(embeddingsUrl('http://tei:8080/')).toBe('http://tei:8080/v1/embeddings');
    expect(embeddingsUrl('http://host/openai/v1/')).toBe('http://host/openai/v1/embeddings');
  });
});
