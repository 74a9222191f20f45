/**
 * The push endpoint: MinIO (or S3 through a forwarder) POSTs bucket event notifications here; each accepted event is
 * routed to its collection and source and handed to `dispatch`, which signals-with-start the collection's debouncing
 * `syncOnEvents` workflow. The response comes once the signal is recorded by Temporal, so a 2xx means the event will be
 * synced; MinIO keeps (queue_dir) and retries events that got no 2xx.
 *
 *   POST /events   Authorization: Bearer <secret>, body: S3 event JSON
 *                  200 {accepted, ignored, unmatched, signalled}  | 400 {error} malformed | 401 {error} | 503 {error}
 *   GET  /healthz  200 {ok: true}
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { bearerMatches, jsonErrors, rateLimitPerClient } from '../../lib/http/guard';
import { MalformedEventError, parseNotification } from './events';
import type { EventRouter } from './routes';

/** Signals one collection's debouncer with the changed keys of one source. */
export type Dispatch = (collection: string, sourceId: string, keys: string[]) => Promise<void>;

export interface WebhookOptions {
  secret: string;
  router: EventRouter;
  dispatch: Dispatch;
  log?: (line: string, fields?: Record<string, unknown>) => void;
  /** Largest accepted body (default DEFAULT_MAX_BODY_BYTES, 1 MiB); a larger one gets 413. */
  maxBodyBytes?: number;
  /** Requests a minute per client address (default DEFAULT_RATE_LIMIT; TWINFLOW_WEBHOOK_RATE_LIMIT); over it 429, which MinIO retries. */
  rateLimitPerMinute?: number;
}

/** 1200 a minute: MinIO posts one request per object event, and a bulk upload is a burst of them. */
export const DEFAULT_RATE_LIMIT = 1200;

/** 1 MiB: MinIO sends one record per request and S3 batches a few, each about 1 KB. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** Constant-time comparison of the Authorization header with "Bearer <secret>". */
export function authorized(header: string | undefined, secret: string): boolean {
  return bearerMatches(header, secret);
}

export function createWebhookApp(o: WebhookOptions): Hono {
  if (!o.secret) throw new Error('the webhook needs a shared secret (TWINFLOW_WEBHOOK_SECRET)');
  const log = o.log ?? (() => undefined);
  const app = new Hono();
  const maxBodyBytes = o.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  // Every answer is JSON, errors included, and none carries a stack trace.
  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${c.req.path} (POST /events, GET /healthz)` }, 404));
  jsonErrors(app, (line) => log('request failed', { error: line }), () => 500, 'internal error: ');
  app.get('/healthz', (c) => c.json({ ok: true }));
  app.post(
    '/events',
    rateLimitPerClient(o.rateLimitPerMinute ?? DEFAULT_RATE_LIMIT, 'TWINFLOW_WEBHOOK_RATE_LIMIT'),
    bodyLimit({ maxSize: maxBodyBytes, onError: (c) => {
      // The rest of the body is never read: close the connection after answering, so a client does not reuse it.
      c.header('connection', 'close');
      return c.json({ error: `request body too large: the limit is ${maxBodyBytes} bytes` }, 413);
    } }),
    async (c) => {
      if (!authorized(c.req.header('authorization'), o.secret)) {
        return c.json({ error: 'missing or wrong Authorization header: expected "Bearer <TWINFLOW_WEBHOOK_SECRET>"' }, 401);
      }
      let body: unknown;
      try {
        body = JSON.parse(await c.req.text());
      } catch (err) {
        return c.json({ error: `request body is not JSON: ${(err as Error).message}` }, 400);
      }
      let parsed: ReturnType<typeof parseNotification>;
      try {
        parsed = parseNotification(body);
      } catch (err) {
        if (err instanceof MalformedEventError) return c.json({ error: err.message }, 400);
        throw err;
      }
      const { routed, unmatched } = o.router.route(parsed.events);
      const signalled: Array<{ collection: string; sourceId: string; keys: number }> = [];
      try {
        for (const [collection, bySource] of routed) {
          for (const [sourceId, keys] of bySource) {
            await o.dispatch(collection, sourceId, keys);
            signalled.push({ collection, sourceId, keys: keys.length });
          }
        }
      } catch (err) {
        log('could not signal the sync workflow', { error: (err as Error).message });
        return c.json({ error: `could not signal the sync workflow: ${(err as Error).message}` }, 503);
      }
      if (signalled.length > 0) log('events accepted', { signalled });
      return c.json({ accepted: parsed.events.length - unmatched, ignored: parsed.ignored, unmatched, test: parsed.test, signalled });
    },
  );
  return app;
}

export interface RunningWebhook {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Serves the app on host:port (port 0: a free one). */
export async function serveWebhook(app: Hono, host: string, port: number): Promise<RunningWebhook> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port }, (info: AddressInfo) => {
      resolve({
        url: `http://${host}:${info.port}`,
        port: info.port,
        close: () => new Promise<void>((res, rej) => server.close((err) => (err ? rej(err) : res()))),
      });
    });
    server.once('error', reject);
  });
}
