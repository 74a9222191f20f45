/**
 * The HTTP API over a Rag (hono): POST /v1/search, POST /v1/ask (SSE or NDJSON stream, or one JSON object),
 * GET /openapi.json, GET /healthz. Request bodies are validated with the zod request schemas; a bad one gets a 400
 * whose message names the field. With a token configured (TWINFLOW_API_TOKEN), /v1/* needs `Authorization: Bearer`
 * (compared in constant time). Locked by default (docs/security.md): it will not listen beyond loopback without a
 * token, each client address gets `rateLimitPerMinute` requests a minute on /v1/* (429 after), no CORS headers unless
 * origins are configured (TWINFLOW_API_CORS_ORIGINS), and errors are JSON with a message, never a stack trace.
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { streamSSE, stream as streamRaw } from 'hono/streaming';
import type { z } from 'zod';
import { assertListenAllowed, jsonErrors, rateLimitPerClient, requireBearer } from '../lib/http/guard';
import { listen, type Listening } from '../lib/http/listen';
import { InputValidationError } from '../lib/schemas/validate';
import { openApiDocument } from './openapi';
import { askRequestSchema, OptionUnavailableError, searchRequestSchema } from './options';
import type { AskEvent, Rag } from './rag';
import { CollectionNotFoundError } from './retrieve';

export interface ApiOptions {
  /** Bearer token required on /v1/*; undefined = no auth. */
  token?: string;
  /** Version reported in the OpenAPI document. */
  version?: string;
  /** Largest request body accepted (default DEFAULT_MAX_BODY_BYTES, 1 MiB); a larger one gets 413. */
  maxBodyBytes?: number;
  /** Requests a minute per client address on /v1/* (default DEFAULT_RATE_LIMIT; TWINFLOW_API_RATE_LIMIT). */
  rateLimitPerMinute?: number;
  /** Browser origins allowed by CORS (TWINFLOW_API_CORS_ORIGINS); none (the default): no CORS headers at all. */
  corsOrigins?: string[];
  log?: (line: string) => void;
}

/** Requests a minute one client address may make on /v1/* by default: a person asking, not a crawler. */
export const DEFAULT_RATE_LIMIT = 120;

/** 1 MiB: a request is a question and its options; 4000 characters of query leave room for everything else. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

interface Issue {
  path: string;
  message: string;
}

function issuesOf(error: z.ZodError): Issue[] {
  return error.issues.map((i) => ({ path: i.path.length ? i.path.join('.') : '(body)', message: i.message }));
}

function badRequest(c: Context, issues: Issue[]) {
  return c.json({ error: `invalid request: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues }, 400);
}

/** Maps errors to status codes: bad input 400, unknown collection 404, the rest 500 (message kept, no stack). */
function errorStatus(err: unknown): 400 | 404 | 500 {
  if (err instanceof InputValidationError || err instanceof OptionUnavailableError) return 400;
  if (err instanceof CollectionNotFoundError) return 404;
  return 500;
}

async function readJson(c: Context): Promise<{ ok: true; body: unknown } | { ok: false; issue: Issue }> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/(.+\+)?json\b/i.test(type)) return { ok: false, issue: { path: '(body)', message: `expected Content-Type: application/json, got ${JSON.stringify(type || 'none')}` } };
  try {
    return { ok: true, body: await c.req.json() };
  } catch (err) {
    return { ok: false, issue: { path: '(body)', message: `not valid JSON: ${(err as Error).message}` } };
  }
}

export function createApi(rag: Rag, opts: ApiOptions = {}): Hono {
  const app = new Hono();
  const log = opts.log ?? (() => {});

  // Middleware answers (413 from the body limit) keep their own response; a 500 logs its stack and sends the message.
  jsonErrors(app, log, errorStatus);
  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${c.req.path}` }, 404));

  app.get('/healthz', (c) => c.json({ ok: true }));
  app.get('/openapi.json', (c) => c.json(openApiDocument({ auth: opts.token !== undefined, version: opts.version ?? '0.1.0', serverUrl: new URL(c.req.url).origin })));

  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const limit = bodyLimit({ maxSize: maxBodyBytes, onError: (c) => {
      // The rest of the body is never read: close the connection after answering, so a client does not reuse it.
      c.header('connection', 'close');
      return c.json({ error: `request body too large: the limit is ${maxBodyBytes} bytes` }, 413);
    } });
  const origins = opts.corsOrigins ?? [];
  if (origins.length > 0) {
    app.use('/v1/*', cors({ origin: (origin) => (origins.includes(origin) ? origin : null), allowMethods: ['POST', 'OPTIONS'], allowHeaders: ['Content-Type', 'Authorization', 'Accept'], maxAge: 600 }));
  }
  app.use('/v1/*', rateLimitPerClient(opts.rateLimitPerMinute ?? DEFAULT_RATE_LIMIT, 'TWINFLOW_API_RATE_LIMIT'));
  if (opts.token !== undefined) app.use('/v1/*', requireBearer(opts.token, 'TWINFLOW_API_TOKEN'));
  app.use('/v1/*', limit);

  app.post('/v1/search', async (c) => {
    const read = await readJson(c);
    if (!read.ok) return badRequest(c, [read.issue]);
    const parsed = searchRequestSchema.safeParse(read.body);
    if (!parsed.success) return badRequest(c, issuesOf(parsed.error));
    const res = await rag.search(parsed.data, c.req.raw.signal);
    return c.json(res);
  });

  app.post('/v1/ask', async (c) => {
    const read = await readJson(c);
    if (!read.ok) return badRequest(c, [read.issue]);
    const parsed = askRequestSchema.safeParse(read.body);
    if (!parsed.success) return badRequest(c, issuesOf(parsed.error));
    const { stream = true, ...req } = parsed.data;
    const signal = c.req.raw.signal;
    if (!stream) return c.json(await rag.ask(req, signal));

    // Start the work before answering, so that bad options and a missing collection still get their 4xx status
    // instead of an error event inside a 200 stream.
    const events = rag.askStream(req, signal);
    const first = await events.next();
    const rest = async function* (): AsyncGenerator<AskEvent> {
      if (first.done) return;
      yield first.value;
      for (;;) {
        const n = await events.next();
        if (n.done) return;
        yield n.value;
      }
    };
    const payload = (ev: AskEvent) => (ev.type === 'done' ? ev.result : ev.type === 'delta' ? { text: ev.text } : { sources: ev.sources, retrieval: ev.retrieval, compression: ev.compression });

    if (/application\/x-ndjson/i.test(c.req.header('accept') ?? '')) {
      c.header('content-type', 'application/x-ndjson; charset=utf-8');
      return streamRaw(c, async (s) => {
        try {
          for await (const ev of rest()) await s.write(`${JSON.stringify(ev.type === 'done' ? { type: 'done', result: ev.result } : { type: ev.type, ...payload(ev) })}\n`);
        } catch (err) {
          log(`ask stream failed: ${(err as Error).message}`);
          await s.write(`${JSON.stringify({ type: 'error', error: (err as Error).message })}\n`);
        }
      });
    }
    return streamSSE(c, async (s) => {
      try {
        for await (const ev of rest()) await s.writeSSE({ event: ev.type, data: JSON.stringify(payload(ev)) });
      } catch (err) {
        log(`ask stream failed: ${(err as Error).message}`);
        await s.writeSSE({ event: 'error', data: JSON.stringify({ error: (err as Error).message }) });
      }
    });
  });

  return app;
}

export type RunningApi = Listening;

/** Serves the API on host:port (port 0 = any free port). Refuses a non-loopback host without a token. */
export async function startApi(rag: Rag, opts: ApiOptions & { host?: string; port?: number } = {}): Promise<RunningApi> {
  const host = opts.host ?? '127.0.0.1';
  assertListenAllowed(host, opts.token, 'twinflow serve', 'TWINFLOW_API_TOKEN');
  return listen(createApi(rag, opts), host, opts.port ?? 8000);
}
