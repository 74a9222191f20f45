import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ChatClient, chatClientForEndpoint, chatClientFromConfig, LlmError, LlmHttpError, LlmJsonError, priceOf, UsageTally } from '../../../lib/llm';
import { type OpenAIChatServer, startOpenAIChatServer } from '../../helpers/openai-chat-server';

let server: OpenAIChatServer;
beforeAll(async () => {
  server = await startOpenAIChatServer({ apiKey: 'sk-test' });
});
afterAll(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
  server.setResponder(() => ({ content: 'OK' }));
});

const client = (o: Partial<ConstructorParameters<typeof ChatClient>[0]> = {}) =>
  new ChatClient({ baseUrl: server.baseUrl, apiKey: 'sk-test', model: 'gpt-4o-mini', backoff: { initialMs: 5, maxMs: 20 }, ...o });

describe('ChatClient against an OpenAI-compatible server', () => {
  it('sends the request in the OpenAI wire format and tallies tokens and cost', async () => {
    server.enqueue({ content: 'Paris.', usage: { prompt_tokens: 1000, completion_tokens: 500 } });
    const c = client();
    const r = await c.chat([{ role: 'user', content: 'Capital of France?' }], { temperature: 0, maxTokens: 10, seed: 1 });
    expect(r).toMatchObject({ content: 'Paris.', finishReason: 'stop', model: 'gpt-4o-mini', attempts: 1, usage: { promptTokens: 1000, completionTokens: 500, totalTokens: 1500 } });
    const req = server.requests[0]!;
    expect(req.headers.authorization).toBe('Bearer sk-test');
    expect(req.body).toEqual({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Capital of France?' }], temperature: 0, max_tokens: 10, seed: 1 });
    const t = c.tally.snapshot();
    expect(t.requests).toBe(1);
    expect(t.costUsd).toBeCloseTo((1000 * 0.15 + 500 * 0.6) / 1e6, 12);
  });

  it('streams deltas over SSE and reports usage from the final chunk', async () => {
    server.enqueue({ content: 'one two three', chunks: ['one ', 'two ', 'three'], usage: { prompt_tokens: 7, completion_tokens: 3 } });
    const c = client();
    const deltas: string[] = [];
    const r = await c.chatStreaming([{ role: 'user', content: 'count' }], (d) => deltas.push(d));
    expect(deltas).toEqual(['one ', 'two ', 'three']);
    expect(r.content).toBe('one two three');
    expect(r.usage).toEqual({ promptTokens: 7, completionTokens: 3, totalTokens: 10 });
    expect(server.requests[0]!.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('retries a 429, waiting as long as Retry-After says', async () => {
    server.enqueue({ status: 429, headers: { 'retry-after': '0.3' } }, { content: 'after wait' });
    const started = Date.now();
    const c = client();
    const r = await c.chat([{ role: 'user', content: 'hi' }]);
    expect(r.content).toBe('after wait');
    expect(r.attempts).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(server.requests).toHaveLength(2);
    expect(c.tally.snapshot()).toMatchObject({ requests: 1, attempts: 2, failures: 1 });
  });

  it('retries 5xx and dropped connections, also before a stream starts', async () => {
    server.enqueue({ status: 503 }, { dropConnection: true }, { content: 'streamed ok' });
    const deltas: string[] = [];
    const r = await client().chatStreaming([{ role: 'user', content: 'x' }], (d) => deltas.push(d));
    expect(r.content).toBe('streamed ok');
    expect(deltas.join('')).toBe('streamed ok');
    expect(server.requests).toHaveLength(3);
  });

  it('gives up after maxRetries and fails at once on a 4xx', async () => {
    server.setResponder(() => ({ status: 500 }));
    const err = await client({ maxRetries: 2 }).chat([{ role: 'user', content: 'x' }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LlmHttpError);
    expect((err as LlmHttpError).status).toBe(500);
    expect(server.requests).toHaveLength(3);

    server.requests.length = 0;
    const bad = await client({ apiKey: 'sk-wrong' }).chat([{ role: 'user', content: 'x' }]).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(LlmHttpError);
    expect((bad as LlmHttpError).status).toBe(401);
    expect((bad as LlmHttpError).retryable).toBe(false);
    expect((bad as Error).message).toMatch(/Incorrect API key/);
    expect(server.requests).toHaveLength(0); // rejected before the request is logged, and not retried
  });

  it('re-asks when the JSON answer is invalid and validates it with zod', async () => {
    const schema = z.object({ pairs: z.array(z.object({ instruction: z.string().min(1), answer: z.string().min(1) })).min(1) });
    server.enqueue({ content: 'Sure! Here it is: {pairs: [' }, { content: '{"pairs": []}' }, { content: '```json\n{"pairs":[{"instruction":"Q","answer":"A"}]}\n```' });
    const r = await client().chatJson(schema, [{ role: 'user', content: 'make pairs' }]);
    expect(r.value).toEqual({ pairs: [{ instruction: 'Q', answer: 'A' }] });
    expect(r.calls).toBe(3);
    expect(server.requests[0]!.body.response_format).toEqual({ type: 'json_object' });
    const second = server.requests[1]!.body.messages!;
    expect(second.at(-2)).toEqual({ role: 'assistant', content: 'Sure! Here it is: {pairs: [' });
    expect(second.at(-1)!.content).toMatch(/not valid JSON/);
    expect(server.requests[2]!.body.messages!.at(-1)!.content).toMatch(/pairs: Too small|pairs: .*at least/i);
  });

  it('fails with LlmJsonError after the repairs run out, and can send a json_schema', async () => {
    server.setResponder(() => ({ content: 'not json' }));
    const schema = z.object({ a: z.number() });
    const err = await client().chatJson(schema, [{ role: 'user', content: 'x' }], { maxRepairs: 1, structured: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LlmJsonError);
    expect(server.requests).toHaveLength(2);
    expect(server.requests[0]!.body.response_format).toMatchObject({ type: 'json_schema', json_schema: { name: 'response', schema: { type: 'object', required: ['a'] } } });
  });

  it('never runs more requests at once than maxConcurrency', async () => {
    const own = await startOpenAIChatServer({ respond: () => ({ content: 'x', delayMs: 40 }) });
    try {
      const c = new ChatClient({ baseUrl: own.baseUrl, model: 'm', maxConcurrency: 2 });
      await Promise.all(Array.from({ length: 6 }, () => c.chat([{ role: 'user', content: 'x' }])));
      expect(own.requests).toHaveLength(6);
      expect(own.maxInFlight).toBe(2);
    } finally {
      await own.close();
    }
  });

  it('paces requests to requestsPerMinute', async () => {
    const c = client({ requestsPerMinute: 600 }); // one per 100 ms
    const started = Date.now();
    await Promise.all(Array.from({ length: 4 }, () => c.chat([{ role: 'user', content: 'x' }])));
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('reads the key from a named environment variable, never from input', () => {
    const c = chatClientFromConfig({ model: 'm', baseUrl: server.baseUrl, apiKey: 'default' }, { apiKeyEnv: 'MY_KEY', env: { MY_KEY: 'sk-env' } });
    expect(c.baseUrl).toBe(server.baseUrl);
    expect(() => chatClientFromConfig({ model: 'm' }, { apiKeyEnv: 'NOPE', env: {} })).toThrow(/NOPE is not set/);
  });

  it('sends the default key only to the configured endpoint, never to a base URL named in input', async () => {
    const llm = { model: 'm', baseUrl: server.baseUrl, apiKey: 'sk-test' };
    await chatClientForEndpoint(llm, { model: 'gpt-4o-mini' }).chat([{ role: 'user', content: 'x' }]);
    expect(server.requests.at(-1)!.headers.authorization).toBe('Bearer sk-test');
    const other = await startOpenAIChatServer();
    try {
      await chatClientForEndpoint(llm, { model: 'gpt-4o-mini', baseUrl: other.baseUrl }).chat([{ role: 'user', content: 'x' }]);
      expect(other.requests[0]!.headers.authorization).toBeUndefined();
      // A named key must be declared on the worker (TWINFLOW_API_KEYS), and goes only to the URL declared with it.
      const undeclared = () => chatClientForEndpoint(llm, { model: 'gpt-4o-mini', baseUrl: other.baseUrl, apiKeyEnv: 'OTHER_KEY' }, { OTHER_KEY: 'sk-other' });
      expect(undeclared).toThrow(/OTHER_KEY is not declared for API keys on this worker.*TWINFLOW_API_KEYS/);
      const declared = { ...llm, apiKeys: [{ env: 'OTHER_KEY', baseUrl: other.baseUrl }] };
      await chatClientForEndpoint(declared, { model: 'gpt-4o-mini', baseUrl: other.baseUrl, apiKeyEnv: 'OTHER_KEY' }, { OTHER_KEY: 'sk-other' }).chat([{ role: 'user', content: 'x' }]);
      expect(other.requests[1]!.headers.authorization).toBe('Bearer sk-other');
      expect(() => chatClientForEndpoint(declared, { model: 'm', baseUrl: server.baseUrl, apiKeyEnv: 'OTHER_KEY' }, { OTHER_KEY: 'sk-other' })).toThrow(/may only be sent to/);
      expect(other.requests).toHaveLength(2);
    } finally {
      await other.close();
    }
  });
});

describe('ChatClient over the openai package', () => {
  it('sends nothing from OPENAI_* environment variables: no key, organisation or base URL of the package’s own', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { OPENAI_API_KEY: 'sk-env-leak', OPENAI_ORG_ID: 'org-leak', OPENAI_PROJECT_ID: 'proj-leak', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' });
    const own = await startOpenAIChatServer();
    try {
      await new ChatClient({ baseUrl: own.baseUrl, model: 'm' }).chat([{ role: 'user', content: 'x' }]);
      const headers = own.requests[0]!.headers;
      expect(headers.authorization).toBeUndefined();
      expect(headers['openai-organization']).toBeUndefined();
      expect(headers['openai-project']).toBeUndefined();
    } finally {
      await own.close();
      for (const k of ['OPENAI_API_KEY', 'OPENAI_ORG_ID', 'OPENAI_PROJECT_ID', 'OPENAI_BASE_URL']) if (saved[k] === undefined) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });

  it('retries an attempt that times out, with one policy: the package itself never retries', async () => {
    server.enqueue({ content: 'slow', delayMs: 400 }, { content: 'fast' });
    const r = await client({ timeoutMs: 100 }).chat([{ role: 'user', content: 'x' }]);
    expect(r).toMatchObject({ content: 'fast', attempts: 2 });
    server.requests.length = 0;
    server.setResponder(() => ({ status: 503 }));
    const err = await client({ maxRetries: 0 }).chat([{ role: 'user', content: 'x' }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LlmHttpError);
    expect((err as LlmHttpError).retryable).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  it('stops waiting for a retry as soon as the caller aborts, with the caller’s reason', async () => {
    server.enqueue({ status: 429, headers: { 'retry-after': '60' } });
    const controller = new AbortController();
    const reason = new Error('activity cancelled');
    setTimeout(() => controller.abort(reason), 100);
    const started = Date.now();
    const err = await client().chat([{ role: 'user', content: 'x' }], { signal: controller.signal }).catch((e: unknown) => e);
    expect(err).toBe(reason);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(server.requests).toHaveLength(1);
  });

  it('reports a connection failure as a retryable LlmError once the retries are spent', async () => {
    server.setResponder(() => ({ dropConnection: true }));
    const err = await client({ maxRetries: 1 }).chat([{ role: 'user', content: 'x' }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LlmError);
    expect(err).not.toBeInstanceOf(LlmHttpError);
    expect((err as LlmError).retryable).toBe(true);
    expect((err as Error).message).toMatch(/^chat completion request to http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions failed: /);
    expect(server.requests).toHaveLength(2);
  });
});

describe('prices', () => {
  it('prices dated model ids by their family and counts unknown models as unpriced', () => {
    expect(priceOf('gpt-4o-mini-2024-07-18', { 'gpt-4o': { input: 1, output: 1 }, 'gpt-4o-mini': { input: 2, output: 2 } })).toEqual({ input: 2, output: 2 });
    const t = new UsageTally();
    t.record('local-llama', { promptTokens: 10, completionTokens: 10, totalTokens: 20 });
    expect(t.snapshot().byModel['local-llama']).toMatchObject({ priced: false, costUsd: 0, promptTokens: 10 });
  });
});
