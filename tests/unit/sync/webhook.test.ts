/** The push endpoint over real HTTP on 127.0.0.1: auth, validation, routing; `dispatch` records what would be signalled. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncInputSchema } from '../../../lib/schemas/sync';
import { createWebhookApp, decodeEventKey, EventRouter, parseNotification, type RunningWebhook, serveWebhook } from '../../../services/webhook';

const SECRET = 'a-shared-secret-of-some-length';

function record(eventName: string, key: string, bucket = 'docs') {
  return { eventVersion: '2.0', eventSource: 'minio:s3', eventName, s3: { bucket: { name: bucket }, object: { key } } };
}

const notes = syncInputSchema.parse({
  collection: 'notes',
  sources: [
    { type: 's3', id: 'inbox', bucket: 'docs', prefix: 'inbox/', exclude: ['**/drafts/**'] },
    { type: 'folder', id: 'f', path: '/tmp/x' },
  ],
});
const wiki = syncInputSchema.parse({ collection: 'wiki', sources: [{ type: 's3', id: 'shared', bucket: 'docs', prefix: 'inbox/shared/' }] });

describe('S3 event parsing', () => {
  it('decodes keys the way S3 encodes them (form encoding)', () => {
    expect(decodeEventKey('inbox%2Fhello+world%2B%C3%BC.md')).toBe('inbox/hello world+ü.md');
    expect(() => decodeEventKey('inbox%2')).toThrow(/not valid URL encoding/);
  });

  it('reads puts and deletes, ignores other event types and the S3 test event', () => {
    const p = parseNotification({ Records: [record('s3:ObjectCreated:Put', 'inbox/a.md'), record('s3:ObjectRemoved:Delete', 'inbox/b.md'), record('s3:ObjectAccessed:Get', 'inbox/a.md')] });
    expect(p.events).toEqual([
      { kind: 'put', eventName: 's3:ObjectCreated:Put', bucket: 'docs', key: 'inbox/a.md' },
      { kind: 'delete', eventName: 's3:ObjectRemoved:Delete', bucket: 'docs', key: 'inbox/b.md' },
    ]);
    expect(p.ignored).toBe(1);
    expect(parseNotification({ Service: 'Amazon S3', Event: 's3:TestEvent' }).test).toBe(true);
  });

  it('names what is missing in a malformed notification', () => {
    expect(() => parseNotification({ Records: [{ eventName: 's3:ObjectCreated:Put', s3: { bucket: { name: 'docs' }, object: {} } }] })).toThrow(/Records.0.s3.object.key: expected the object key/);
    expect(() => parseNotification({ hello: 1 })).toThrow(/Records: expected Records/);
  });
});

describe('event routing', () => {
  const router = new EventRouter([notes, wiki], 'twinflow');
  it('sends a key to every collection whose s3 source holds it, honouring globs', () => {
    const { routed, unmatched } = router.route([
      { kind: 'put', eventName: '', bucket: 'docs', key: 'inbox/a.md' },
      { kind: 'put', eventName: '', bucket: 'docs', key: 'inbox/shared/b.md' },
      { kind: 'put', eventName: '', bucket: 'docs', key: 'inbox/drafts/c.md' },
      { kind: 'put', eventName: '', bucket: 'docs', key: 'inbox/d.png' },
      { kind: 'put', eventName: '', bucket: 'other', key: 'inbox/e.md' },
      { kind: 'delete', eventName: '', bucket: 'docs', key: 'inbox/a.md' },
    ]);
    expect(Object.fromEntries([...routed].map(([c, m]) => [c, Object.fromEntries(m)]))).toEqual({
      notes: { inbox: ['inbox/a.md', 'inbox/shared/b.md'] },
      wiki: { shared: ['inbox/shared/b.md'] },
    });
    expect(unmatched).toBe(3);
  });
  it('refuses a configuration with no s3 source', () => {
    expect(() => new EventRouter([syncInputSchema.parse({ sources: [{ type: 'folder', id: 'f', path: '/x' }] })], 'b')).toThrow(/no s3 source/);
  });
});

describe('webhook endpoint', () => {
  let server: RunningWebhook;
  const dispatched: Array<[string, string, string[]]> = [];
  let failNext = false;

  beforeAll(async () => {
    const app = createWebhookApp({
      secret: SECRET,
      router: new EventRouter([notes], 'twinflow'),
      dispatch: async (collection, sourceId, keys) => {
        if (failNext) {
          failNext = false;
          throw new Error('temporal is unreachable');
        }
        dispatched.push([collection, sourceId, keys]);
      },
    });
    server = await serveWebhook(app, '127.0.0.1', 0);
  });
  afterAll(() => server?.close());

  const errorOf = async (res: Response) => ((await res.json()) as { error: string }).error;
  const post = (body: string, auth: string | null = `Bearer ${SECRET}`) =>
    fetch(`${server.url}/events`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) } });

  it('accepts an authenticated event and dispatches its key to the collection', async () => {
    dispatched.length = 0;
    const res = await post(JSON.stringify({ EventName: 's3:ObjectCreated:Put', Records: [record('s3:ObjectCreated:Put', 'inbox%2Fnew+note.md')] }));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ accepted: 1, unmatched: 0, signalled: [{ collection: 'notes', sourceId: 'inbox', keys: 1 }] });
    expect(dispatched).toEqual([['notes', 'inbox', ['inbox/new note.md']]]);
  });

  it('rejects a missing or wrong secret with 401', async () => {
    const body = JSON.stringify({ Records: [record('s3:ObjectCreated:Put', 'inbox/a.md')] });
    expect((await post(body, null)).status).toBe(401);
    const wrong = await post(body, 'Bearer nope');
    expect(wrong.status).toBe(401);
    expect(await errorOf(wrong)).toMatch(/Authorization/);
  });

  it('answers 400 with the reason for a body that is not JSON or not an S3 event', async () => {
    const notJson = await post('{"Records": [');
    expect(notJson.status).toBe(400);
    expect(await errorOf(notJson)).toMatch(/not JSON/);
    const noKey = await post(JSON.stringify({ Records: [{ eventName: 's3:ObjectCreated:Put', s3: { bucket: { name: 'docs' } } }] }));
    expect(noKey.status).toBe(400);
    expect(await errorOf(noKey)).toMatch(/Records.0.s3.object/);
  });

  it('answers 503 when the workflow cannot be signalled, so the sender retries', async () => {
    failNext = true;
    const res = await post(JSON.stringify({ Records: [record('s3:ObjectCreated:Put', 'inbox/a.md')] }));
    expect(res.status).toBe(503);
    expect(await errorOf(res)).toMatch(/temporal is unreachable/);
  });

  it('accepts events it has no route for without dispatching anything', async () => {
    dispatched.length = 0;
    const res = await post(JSON.stringify({ Records: [record('s3:ObjectCreated:Put', 'elsewhere/a.md')] }));
    expect(await res.json()).toMatchObject({ accepted: 0, unmatched: 1, signalled: [] });
    expect(dispatched).toEqual([]);
  });
});
