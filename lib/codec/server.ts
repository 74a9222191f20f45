/**
 * The Temporal codec server protocol, so the Web UI (and `temporal --codec-endpoint`) can show decrypted payloads to
 * whoever can reach this server (and holds its token, when one is set):
 *
 *   POST /decode, POST /encode   {"payloads": [{"metadata": {"encoding": "<base64>"}, "data": "<base64>"}]}
 *                                → the same shape, decoded or encoded (Payloads in protobuf JSON: bytes in base64)
 *   OPTIONS (CORS preflight)     allowed only for the configured origin (the Web UI's), with Content-Type,
 *                                X-Namespace and Authorization headers and credentials
 *   GET /healthz                 {ok: true}
 *
 * X-Namespace, when the UI sends it, must be the namespace this server holds keys for (403 otherwise): keys are per
 * namespace, and a UI pointed at another namespace gets a clear answer instead of undecodable payloads.
 */
import type { Payload } from '@temporalio/common';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { z } from 'zod';
import { jsonErrors, rateLimitPerClient, requireBearer } from '../http/guard';
import { listen, type Listening } from '../http/listen';
import { type AesGcmCodec, PayloadDecryptionError } from './aes-gcm';

export interface CodecServerOptions {
  codec: AesGcmCodec;
  namespace: string;
  /** The browser origin allowed by CORS (the Web UI's), e.g. http://127.0.0.1:8233. */
  corsOrigin: string;
  token?: string;
  /** Requests a minute per client address (TWINFLOW_CODEC_RATE_LIMIT; default 600: a history page is many requests). */
  rateLimitPerMinute?: number;
  /** Largest request body (default 8 MiB: a history page of payloads). */
  maxBodyBytes?: number;
  log?: (line: string) => void;
}

export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;

const base64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'expected base64');
/** Payloads in protobuf JSON; unknown fields (externalPayloads) are ignored, as the UI may send them. */
export const payloadsBodySchema = z.object({
  payloads: z.array(z.object({ metadata: z.record(z.string(), base64).optional(), data: base64.optional() })),
});
export type JsonPayload = z.infer<typeof payloadsBodySchema>['payloads'][number];

const fromB64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const toB64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

export function fromJsonPayload(p: JsonPayload): Payload {
  return { metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, fromB64(v)])), data: fromB64(p.data ?? '') };
}

export function toJsonPayload(p: Payload): { metadata: Record<string, string>; data: string } {
  return { metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, toB64(v ?? new Uint8Array())])), data: toB64(p.data ?? new Uint8Array()) };
}

export function createCodecServerApp(o: CodecServerOptions): Hono {
  const app = new Hono();
  const log = o.log ?? (() => undefined);
  const maxBodyBytes = o.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  // CORS first, so a preflight (no Authorization header) is answered before auth, and errors carry the headers too.
  app.use(
    '*',
    cors({
      origin: (origin) => (origin === o.corsOrigin ? origin : null),
      allowMethods: ['POST', 'OPTIONS'],
      allowHeaders: ['Content-Type', 'X-Namespace', 'Authorization'],
      credentials: true,
      maxAge: 600,
    }),
  );
  jsonErrors(app, log, (err) => (err instanceof PayloadDecryptionError ? 400 : 500));
  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${c.req.path} (POST /encode, POST /decode)` }, 404));
  app.get('/healthz', (c) => c.json({ ok: true }));
  app.use('/:op{encode|decode}', rateLimitPerClient(o.rateLimitPerMinute ?? 600, 'TWINFLOW_CODEC_RATE_LIMIT'));
  if (o.token) app.use('/:op{encode|decode}', requireBearer(o.token, 'TWINFLOW_CODEC_TOKEN'));
  app.use(
    '/:op{encode|decode}',
    bodyLimit({ maxSize: maxBodyBytes, onError: (c) => {
      c.header('connection', 'close');
      return c.json({ error: `request body too large: the limit is ${maxBodyBytes} bytes` }, 413);
    } }),
  );

  app.post('/:op{encode|decode}', async (c) => {
    const namespace = c.req.header('x-namespace');
    if (namespace !== undefined && namespace !== o.namespace) {
      return c.json({ error: `this codec server holds the keys of namespace ${JSON.stringify(o.namespace)}, not ${JSON.stringify(namespace)} (TEMPORAL_NAMESPACE)` }, 403);
    }
    let body: unknown;
    try {
      body = await c.req.json();
    } catch (err) {
      return c.json({ error: `request body is not JSON: ${(err as Error).message}` }, 400);
    }
    const parsed = payloadsBodySchema.safeParse(body);
    if (!parsed.success) return c.json({ error: `expected {"payloads": [{"metadata": {...}, "data": "<base64>"}]}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ')}` }, 400);
    const payloads = parsed.data.payloads.map(fromJsonPayload);
    const out = c.req.param('op') === 'encode' ? await o.codec.encode(payloads) : await o.codec.decode(payloads);
    return c.json({ payloads: out.map(toJsonPayload) });
  });
  return app;
}

export type RunningCodecServer = Listening;

export async function startCodecServer(o: CodecServerOptions & { host: string; port: number }): Promise<RunningCodecServer> {
  return listen(createCodecServerApp(o), o.host, o.port);
}
