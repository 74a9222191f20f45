/**
 * The push endpoint against bodies and requests it must refuse: over the body limit (declared, or streamed without a
 * Content-Length), a route or method it does not serve, JSON that is not an object, an event whose key is not valid
 * URL encoding. Every answer is JSON with an `error` and no stack trace; nothing is dispatched. Real HTTP on 127.0.0.1;
 * `dispatch` records what would be signalled.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncInputSchema } from '../../../lib/schemas/sync';
import { createWebhookApp, EventRouter, type RunningWebhook, serveWebhook } from '../../../services/webhook';
import { DEFAULT_MAX_BODY_BYTES } from '../../../services/webhook/server';
import { postChunked } from '../../helpers/raw-http';

const SECRET = 'a-shared-secret-of-some-length';
const notes = syncInputSchema.parse({ collection: 'notes', sources: [{ type: 's3', id: 'inbox', bucket: 'docs', prefix: 'inbox/' }] });
const dispatched: string[][] = [];
let server: RunningWebhook;
let small: RunningWebhook;

function app(maxBodyBytes?: number) {
  return createWebhookApp({
    secret: SECRET,
    router: new EventRouter([notes], 'docs'),
    dispatch: async (_collection, _sourceId, keys) => void dispatched.push(keys),
    ...(maxBodyBytes !== undefined ? { maxBodyBytes } : {}),
  });
}

beforeAll(async () => {
  server = await serveWebhook(app(), '127.0.0.1', 0);
  small = await serveWebhook(app(1000), '127.0.0.1', 0);
});
afterAll(async () => {
  await server?.close();
  await small?.close();
});

/** A request with a Content-Length; resolves with the status and the parsed JSON answer. */
function request(url: string, opts: { method?: string; body?: Buffer; headers?: Record<string, string> }): Promise<{ status: number; type: string; json: { error?: string } }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent: false, method: opts.method ?? 'POST', headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json', ...opts.headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), json: JSON.parse(text) as { error?: string } }));
    });
    req.on('error', reject);
    if (opts.body) req.setHeader('content-length', opts.body.length);
    req.end(opts.body);
  });
}

/** A valid notification padded past `bytes` with records for another bucket. */
function bigEvent(bytes: number): Buffer {
  const filler = Array.from({ length: Math.ceil(bytes / 100) }, (_, i) => ({ eventName: 's3:ObjectCreated:Put', s3: { bucket: { name: 'elsewhere' }, object: { key: `padding/${i}.md` } } }));
  return Buffer.from(JSON.stringify({ Records: [{ eventName: 's3:ObjectCreated:Put', s3: { bucket: { name: 'docs' }, object: { key: 'inbox/a.md' } } }, ...filler] }));
}

describe('webhook: bodies over the limit', () => {
  it('answers 413 with a JSON error naming the limit (1 MiB by default), declared or streamed, and dispatches nothing', async () => {
    expect(DEFAULT_MAX_BODY_BYTES).toBe(1024 * 1024);
    const body = bigEvent(2 * 1024 * 1024);
    dispatched.length = 0;
    const declared = await request(`${server.url}/events`, { body });
    expect(declared.status).toBe(413);
    expect(declared.type).toMatch(/^application\/json/);
    expect(declared.json).toEqual({ error: `request body too large: the limit is ${1024 * 1024} bytes` });
    // Streamed without a Content-Length: the limit holds while reading.
    const streamed = await postChunked(`${server.url}/events`, { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' }, body);
    expect(streamed.status).toBe(413);
    expect(streamed.headers['content-type']).toMatch(/^application\/json/);
    expect(streamed.headers.connection).toBe('close');
    expect(JSON.parse(streamed.body)).toEqual({ error: `request body too large: the limit is ${1024 * 1024} bytes` });
    expect(dispatched).toEqual([]);
    // Under the limit, the same kind of body goes through.
    const ok = await request(`${server.url}/events`, { body: bigEvent(100 * 1024) });
    expect(ok.status).toBe(200);
    expect(dispatched).toEqual([['inbox/a.md']]);
  });

  it('applies a configured limit', async () => {
    const res = await request(`${small.url}/events`, { body: bigEvent(5000) });
    expect(res).toMatchObject({ status: 413, json: { error: 'request body too large: the limit is 1000 bytes' } });
  });
});

describe('webhook: requests it does not serve', () => {
  it('answers an unknown route or method with a JSON 404', async () => {
    for (const [method, route] of [
      ['GET', '/events'],
      ['POST', '/event'],
      ['PUT', '/events'],
    ]) {
      const res = await request(`${server.url}${route}`, { method, body: Buffer.from('{}') });
      expect(res.status).toBe(404);
      expect(res.json).toEqual({ error: `no route ${method} ${route} (POST /events, GET /healthz)` });
    }
  });

  it('answers 400 for JSON that is not a notification object, and for a key that is not valid URL encoding', async () => {
    for (const body of ['[]', 'null', '"Records"', '{"Records": "none"}']) {
      const res = await request(`${server.url}/events`, { body: Buffer.from(body) });
      expect(res.status).toBe(400);
      expect(res.json.error).toMatch(/^not an S3 event notification: /);
      expect(res.json.error).not.toMatch(/\n\s+at /);
    }
    const badKey = await request(`${server.url}/events`, { body: Buffer.from(JSON.stringify({ Records: [{ eventName: 's3:ObjectCreated:Put', s3: { bucket: { name: 'docs' }, object: { key: 'inbox%2' } } }] })) });
    expect(badKey.status).toBe(400);
    expect(badKey.json.error).toMatch(/not valid URL encoding/);
  });

  it('checks the secret before reading a body of any size', async () => {
    const res = await request(`${server.url}/events`, { body: Buffer.from('not even JSON'), headers: { authorization: 'Bearer wrong' } });
    expect(res.status).toBe(401);
    expect(res.json.error).toMatch(/Authorization/);
  });
});
