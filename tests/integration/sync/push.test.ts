/**
 * Push on real components: a MinIO of its own (started like `stack up` does, with the webhook target in its
 * environment and the bucket notification configured), the webhook server, Temporal's signal-with-start of the
 * per-collection debouncer, a real worker. A put is searchable within seconds, a delete disappears, a burst of 50
 * puts runs one or two syncs.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure } from '@temporalio/activity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../../activities';
import { createDeps, type Deps } from '../../../activities/deps';
import { TwinflowClient } from '../../../client';
import { minioWebhookEnv, WEBHOOK_TARGET_ARN } from '../../../infra/buckets';
import { minioDown, minioUp, type StackOptions, stackOptionsFromConfig } from '../../../infra/stack';
import { s3DocId } from '../../../lib/crawl/s3';
import { syncInputSchema, type SyncOnEventsStatus, syncOnEventsWorkflowId } from '../../../lib/schemas/sync';
import { type RunningWebhook, startWebhookService } from '../../../services/webhook';
import { testConfig } from '../../harness/stack';
import { withWorker } from '../../harness/worker';
import { TOPICS, uniqueCollection } from './helpers';

const SECRET = 'push-test-secret-0123456789';
const BUCKET = 'twinflow-push';
const collection = uniqueCollection('push');
const taskQueue = `push-${collection}`;
const stackDir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-push-minio-'));

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

let minio: StackOptions;
let config: ReturnType<typeof testConfig>;
let deps: Deps;
let webhook: RunningWebhook;
let twinflow: TwinflowClient;
let stopWorker: () => void;
let workerRun: Promise<void>;
/** Set by a test: the next sync fails at its first step, as a real one does when the store is down. */
let failNextSync = false;
let injectedFailures = 0;
const sync = syncInputSchema.parse({ collection, sources: [{ type: 's3', id: 'inbox', prefix: 'inbox/' }], cleaning: { minChars: 40 } });

beforeAll(async () => {
  const [minioPort, consolePort] = [await freePort(), await freePort()];
  config = testConfig({
    TWINFLOW_MINIO_PORT: String(minioPort),
    TWINFLOW_MINIO_CONSOLE_PORT: String(consolePort),
    TWINFLOW_STACK_DIR: stackDir,
    S3_BUCKET: BUCKET,
    // The harness allows the shared stack's bucket only; this test's s3 source reads its own (docs/security.md).
    TWINFLOW_ALLOW_BUCKETS: BUCKET,
    LANCEDB_URI: path.join(stackDir, 'lancedb'),
  });
  deps = createDeps(config);
  twinflow = await TwinflowClient.connect(config);
  // The webhook listens first: MinIO needs its address in its environment at start.
  webhook = await startWebhookService({ client: twinflow, syncConfigs: [sync], secret: SECRET, host: '127.0.0.1', port: 0, debounce: { quietMs: 1000, maxDelayMs: 15_000, idleMs: 120_000 }, taskQueue });
  minio = stackOptionsFromConfig(config, {
    minioEnv: minioWebhookEnv(`${webhook.url}/events`, SECRET, path.join(stackDir, 'events')),
    notifications: { arn: WEBHOOK_TARGET_ARN, prefixes: [{ bucket: BUCKET, prefix: 'inbox/' }] },
  });
  await minioUp(minio, () => undefined);
  // One worker for the whole file, as in production: events that arrive between two tests are worked on at once
  // (a worker per test left them waiting for the next one, and each test then waited on the one before).
  const activities = createActivities(deps);
  const withInjectedFailure = {
    ...activities,
    resolveIndex: async (...args: Parameters<typeof activities.resolveIndex>) => {
      if (failNextSync) {
        failNextSync = false;
        injectedFailures += 1;
        throw ApplicationFailure.nonRetryable('injected: the vector store is unreachable', 'StoreUnavailable');
      }
      return activities.resolveIndex(...args);
    },
  };
  const stopped = new Promise<void>((resolve) => (stopWorker = resolve));
  workerRun = withWorker(config, withInjectedFailure, () => stopped, { taskQueue });
}, 120_000);

afterAll(async () => {
  stopWorker?.();
  await workerRun;
  await twinflow?.client.workflow.getHandle(syncOnEventsWorkflowId(collection)).terminate('test over').catch(() => undefined);
  await twinflow?.close();
  await webhook?.close();
  if (minio) await minioDown(minio, () => undefined);
  fs.rmSync(stackDir, { recursive: true, force: true });
});

/**
 * Polls until `check` holds (the collection may not exist before the first push sync). A timeout says what the
 * debouncer was doing, so a failure on a loaded CI machine can be told apart from a lost event.
 */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<number> {
  const t0 = Date.now();
  let lastFailure: unknown;
  for (;;) {
    try {
      if (await check()) return Date.now() - t0;
    } catch (err) {
      lastFailure = err;
    }
    if (Date.now() - t0 > timeoutMs) {
      const debouncer = await status().then(
        (s) => JSON.stringify(s),
        (err: Error) => `status query failed: ${err.message}`,
      );
      const cause = lastFailure ? `; the last check threw: ${(lastFailure as Error).message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}${cause}; debouncer: ${debouncer}`);
    }
    await sleep(250);
  }
}

const note = (i: number) => `# ${TOPICS[i % TOPICS.length]![0]} ${i}\n\n${TOPICS[i % TOPICS.length]![1]}. Inbox note number ${i}.\n`;
const docCount = async (docId: string) => (await deps.vectorStore()).count(collection, { must: [{ field: 'docId', eq: docId }] });
const status = () => twinflow.client.workflow.getHandle(syncOnEventsWorkflowId(collection)).query<SyncOnEventsStatus>('status');

describe('push: bucket notifications → webhook → debounced sync', () => {
  it('makes a dropped document searchable within seconds, and a deleted one disappear', async () => {
    const key = 'inbox/volcano.md';
    const t0 = Date.now();
    await deps.artifacts.putBytes(key, note(11), 'text/markdown');
    await until('the put is in the store', async () => (await docCount(s3DocId(BUCKET, key))) > 0);
    const latency = Date.now() - t0;
    expect(latency).toBeLessThan(30_000);
    const embedder = await deps.cachedEmbedder();
    const hits = await (await deps.vectorStore()).search(collection, { vector: await embedder.embedQuery('shield volcanoes and basaltic lava'), limit: 1 });
    expect(hits[0]!.payload).toMatchObject({ location: `s3://${BUCKET}/${key}`, sourceType: 's3', sourceId: 'inbox' });

    await deps.artifacts.delete(key);
    await until('the delete is reflected', async () => (await docCount(s3DocId(BUCKET, key))) === 0);
    expect((await status()).lastError).toBeUndefined();
  });

  it('treats an object that is gone by the time it is read as a delete, not an error', async () => {
    const key = 'inbox/short-lived.md';
    await deps.artifacts.putBytes(key, note(3), 'text/markdown');
    await until('it is loaded', async () => (await docCount(s3DocId(BUCKET, key))) > 0);
    await until('the debouncer is idle', async () => (await status()).phase === 'idle');
    const before = await status();
    // Rewritten and deleted within one quiet period: the sync reads the key and finds nothing. On a loaded machine
    // the two events can reach the debouncer more than a quiet period apart and make two syncs: the first finds
    // the object gone and deletes it, the second has nothing left to do. Either way it is one deletion, no error.
    await deps.artifacts.putBytes(key, note(4), 'text/markdown');
    await deps.artifacts.delete(key);
    await until('the sync ran and nothing is pending', async () => {
      const now = await status();
      return now.syncs > before.syncs && now.phase === 'idle' && now.pendingKeys === 0 && now.totals.deleted > before.totals.deleted;
    });
    expect(await docCount(s3DocId(BUCKET, key))).toBe(0);
    const s = await status();
    expect(s.lastError).toBeUndefined();
    expect(s.totals.deleted - before.totals.deleted).toBe(1);
  });

  it('runs one or two syncs for a burst of 50 puts, not 50', async () => {
    await until('the debouncer is idle', async () => (await status()).phase === 'idle');
    const before = (await status()).syncs;
    const keys = Array.from({ length: 50 }, (_, i) => `inbox/burst/note-${String(i).padStart(2, '0')}.md`);
    await Promise.all(keys.map((k, i) => deps.artifacts.putBytes(k, note(100 + i), 'text/markdown')));
    await until('all 50 are in the store', async () => {
      const ids = new Set<string>();
      for await (const p of (await deps.vectorStore()).scroll(collection, { must: [{ field: 'sourceId', eq: 'inbox' }] })) ids.add(p.payload.docId);
      return keys.every((k) => ids.has(s3DocId(BUCKET, k)));
    }, 80_000);
    // Points are visible once loaded, before the sync that loaded them has finished: wait for it to finish.
    await until('the debouncer is idle again', async () => {
      const now = await status();
      return now.phase === 'idle' && now.pendingKeys === 0;
    });
    const s = await status();
    expect(s.syncs - before).toBeGreaterThanOrEqual(1);
    expect(s.syncs - before).toBeLessThanOrEqual(2);
    expect(s.events).toBeGreaterThanOrEqual(50);
  }, 120_000);

  it('keeps the keys of a failed sync, says why and when it retries, and loads them on the retry', async () => {
    await until('the debouncer is idle', async () => (await status()).phase === 'idle');
    const before = await status();
    const key = 'inbox/after-outage.md';
    failNextSync = true;
    await deps.artifacts.putBytes(key, note(7), 'text/markdown');
    await until('the failed sync is backing off', async () => (await status()).phase === 'backoff');
    const backingOff = await status();
    expect(backingOff.lastError).toMatch(/vector store is unreachable/);
    expect(backingOff.pendingKeys).toBe(1);
    expect(Date.parse(backingOff.retryAt!)).toBeGreaterThan(Date.now());
    await until('the retry loaded it', async () => (await docCount(s3DocId(BUCKET, key))) > 0, 90_000);
    await until('the debouncer is idle again', async () => (await status()).phase === 'idle');
    const after = await status();
    expect(after.lastError).toBeUndefined();
    expect(after.retryAt).toBeUndefined();
    expect(after.totals.inserted - before.totals.inserted).toBe(1);
    expect(injectedFailures).toBe(1);
  }, 150_000);
});
