/**
 * The HTTP surfaces twinflow exposes (`serve`, `webhook serve`, `codec-server`) locked by default (#12): no listening
 * beyond loopback without a token (as a library call and as bin/twinflow, a real process), constant-time bearer
 * checks, a per-client rate limit (429), the body limit (413), no CORS unless configured, and a handler that throws
 * answered in JSON without a stack trace. Real HTTP servers on 127.0.0.1.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../lib/config';
import { assertListenAllowed, bearerMatches, isLoopbackHost, UnprotectedListenError } from '../../../lib/http/guard';
import { syncInputSchema } from '../../../lib/schemas/sync';
import type { Rag } from '../../../rag/rag';
import { type RunningApi, startApi } from '../../../rag/server';
import { createWebhookApp, EventRouter, type RunningWebhook, serveWebhook } from '../../../services/webhook';

const BIN = path.join(PROJECT_ROOT, 'bin', 'twinflow');
const TOKEN = 'surface-test-token-0123456789';
const STACK_LINE = /\n\s+at |\.ts:\d+:\d+/;

/** The search handler throws (with a stack that names this file): what a bug deep in retrieval looks like. */
const throwingRag = {
  search: async () => {
    throw new Error('the vector store fell over');
  },
} as unknown as Rag;

const running: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  while (running.length) await running.pop()!.close();
});

async function api(opts: Parameters<typeof startApi>[1] = {}): Promise<RunningApi> {
  const a = await startApi(throwingRag, { port: 0, ...opts });
  running.push(a);
  return a;
}

const postJson = (url: string, body: string, headers: Record<string, string> = {}) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

describe('listening beyond loopback', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['localhost', true],
    ['::1', true],
    ['[::1]', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['10.0.0.5', false],
    ['192.168.1.2', false],
    ['my-host.example.com', false],
  ])('%s is loopback: %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });

  it('is refused without a token, with a message naming the setting; allowed with one', async () => {
    expect(() => assertListenAllowed('0.0.0.0', undefined, 'twinflow serve', 'TWINFLOW_API_TOKEN')).toThrow(UnprotectedListenError);
    await expect(startApi(throwingRag, { host: '0.0.0.0', port: 0 })).rejects.toThrow(/twinflow serve: refusing to listen on 0\.0\.0\.0 without a token.*Set TWINFLOW_API_TOKEN/);
    const open = await api({ host: '0.0.0.0', token: TOKEN });
    expect(open.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
  });

  it('bin/twinflow serve and codec-server exit 2 with one line, before loading anything', async () => {
    const run = (args: string[], env: Record<string, string>) =>
      new Promise<{ code: number; stderr: string }>((resolve) => {
        const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TWINFLOW_')));
        execFile(BIN, args, { env: { ...clean, TEMPORAL_ADDRESS: '127.0.0.1:1', ...env }, timeout: 60_000 }, (err, _out, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stderr }));
      });
    const serve = await run(['serve', '--host', '0.0.0.0', '--port', '0'], { TWINFLOW_HOME: path.join(PROJECT_ROOT, '.twinflow', 'no-such-home') });
    expect(serve.code).toBe(2);
    expect(serve.stderr.trim()).toMatch(/^twinflow: twinflow serve: refusing to listen on 0\.0\.0\.0 without a token.*TWINFLOW_API_TOKEN/);
    const key = randomBytes(32).toString('base64');
    const codec = await run(['codec-server', '--host', '0.0.0.0', '--port', '0'], { TWINFLOW_CODEC_KEYS: `k1:${key}` });
    expect(codec.code).toBe(2);
    expect(codec.stderr).toMatch(/codec-server: refusing to listen on 0\.0\.0\.0 without a token.*TWINFLOW_CODEC_TOKEN/);
    expect(codec.stderr).not.toContain(key);
    const off = await run(['codec-server'], {});
    expect(off.code).toBe(2);
    expect(off.stderr).toMatch(/payload encryption is off: set TWINFLOW_CODEC_KEYS/);
  }, 120_000);
});

describe('twinflow serve (rag/server.ts)', () => {
  it('checks the bearer token (constant-time comparison) before reading the body', async () => {
    expect(bearerMatches(`Bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(bearerMatches(`Bearer ${TOKEN}x`, TOKEN)).toBe(false);
    expect(bearerMatches(undefined, TOKEN)).toBe(false);
    const a = await api({ token: TOKEN });
    const missing = await postJson(`${a.url}/v1/search`, '{"query":"x"}');
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({ error: 'missing bearer token: send "Authorization: Bearer <TWINFLOW_API_TOKEN>"' });
    expect((await postJson(`${a.url}/v1/search`, '{"query":"x"}', { authorization: 'Bearer nope-nope-nope-nope' })).status).toBe(401);
  });

  it('answers a handler that throws with JSON carrying the message and no stack trace', async () => {
    const logged: string[] = [];
    const a = await api({ log: (l) => logged.push(l) });
    const res = await postJson(`${a.url}/v1/search`, '{"query":"where is it"}');
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ error: 'the vector store fell over' });
    expect(text).not.toMatch(STACK_LINE);
    // The stack is in the server's log, for whoever runs it.
    expect(logged.join('\n')).toMatch(STACK_LINE);
  });

  it('limits each client address per minute: 429 with Retry-After, JSON', async () => {
    const a = await api({ rateLimitPerMinute: 3 });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await postJson(`${a.url}/v1/search`, '[]')).status);
    expect(statuses).toEqual([400, 400, 400, 429, 429]);
    const limited = await postJson(`${a.url}/v1/search`, '[]');
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await limited.json()).toEqual({ error: 'too many requests: at most 3 a minute from one address (TWINFLOW_API_RATE_LIMIT)' });
    // Health checks are not limited.
    expect((await fetch(`${a.url}/healthz`)).status).toBe(200);
  });

  it('answers a body over the limit with 413', async () => {
    const a = await api({ maxBodyBytes: 100 });
    const res = await postJson(`${a.url}/v1/search`, JSON.stringify({ query: 'x'.repeat(500) }));
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: 'request body too large: the limit is 100 bytes' });
  });

  it('sends no CORS headers unless origins are configured, and then only for those', async () => {
    const preflight = (url: string, origin: string) =>
      fetch(`${url}/v1/search`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    const closed = await api();
    const none = await preflight(closed.url, 'https://app.example.com');
    expect(none.headers.get('access-control-allow-origin')).toBeNull();
    const post = await postJson(`${closed.url}/v1/search`, '[]', { origin: 'https://app.example.com' });
    expect(post.headers.get('access-control-allow-origin')).toBeNull();

    const configured = await api({ corsOrigins: ['https://app.example.com'] });
    const ok = await preflight(configured.url, 'https://app.example.com');
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect((await preflight(configured.url, 'https://evil.example.com')).headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('twinflow webhook serve (services/webhook)', () => {
  const SECRET = 'webhook-secret-0123456789';
  const sync = syncInputSchema.parse({ collection: 'notes', sources: [{ type: 's3', id: 'inbox', prefix: 'inbox/' }] });
  const event = JSON.stringify({ EventName: 's3:ObjectCreated:Put', Key: 'twinflow/inbox/a.md', Records: [{ eventName: 's3:ObjectCreated:Put', s3: { bucket: { name: 'twinflow' }, object: { key: 'inbox/a.md' } } }] });

  async function webhook(router: EventRouter, rateLimitPerMinute?: number): Promise<RunningWebhook> {
    const logged: string[] = [];
    const app = createWebhookApp({ secret: SECRET, router, dispatch: async () => undefined, rateLimitPerMinute, log: (l, f) => logged.push(`${l} ${JSON.stringify(f)}`) });
    const w = await serveWebhook(app, '127.0.0.1', 0);
    running.push(w);
    return w;
  }

  it('answers a handler that throws with JSON and no stack trace', async () => {
    const router = new EventRouter([sync], 'twinflow');
    router.route = () => {
      throw new Error('routing table corrupt');
    };
    const w = await webhook(router);
    const res = await postJson(`${w.url}/events`, event, { authorization: `Bearer ${SECRET}` });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ error: 'internal error: routing table corrupt' });
    expect(text).not.toMatch(STACK_LINE);
  });

  it('limits each client address per minute (429), authenticated or not', async () => {
    const w = await webhook(new EventRouter([sync], 'twinflow'), 2);
    const statuses: number[] = [];
    for (const auth of [`Bearer ${SECRET}`, 'Bearer wrong', `Bearer ${SECRET}`]) statuses.push((await postJson(`${w.url}/events`, event, { authorization: auth })).status);
    expect(statuses).toEqual([200, 401, 429]);
  });

  it('never listens without its secret', () => {
    expect(() => createWebhookApp({ secret: '', router: new EventRouter([sync], 'twinflow'), dispatch: async () => undefined })).toThrow(/TWINFLOW_WEBHOOK_SECRET/);
  });
});
