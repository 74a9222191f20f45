/**
 * Fault 1: kill -9 of the CPU worker process while an activity of a given phase is in flight (crawl, clean, embed,
 * load), for `ingest` and for `sync`. A new worker process then finishes the same workflow run (same workflowId and
 * runId): the killed activity is retried, nothing else is redone, and the store ends up equal to a clean run of the
 * same input, point for point.
 *
 * The worker embeds through an OpenAI-compatible endpoint on 127.0.0.1 (EMBEDDING_PROVIDER=openai, a deterministic
 * embedding, 60 ms per request of 16 texts) so that embedding takes long enough to be hit without loading the 2 cores.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createDeps } from '../../activities/deps';
import { partKey } from '../../activities/parts';
import type { IngestResult } from '../../lib/schemas/ingest';
import type { SyncResult } from '../../lib/schemas/sync';
import { recordFaultRow } from '../harness/fault-report';
import { faultConfig } from '../harness/fault-stack';
import { startWorkerProcess, type WorkerProcess } from '../harness/fault-worker';
import { siteIngestInput, siteSyncInput } from './support/corpus';
import { ingestFaultFixture } from './support/ingest-fixture';
import { once, runClean, scratchDir, uniqueName, withWorkerProcess } from './support/run';
import { compareStores, snapshotStore, type StoreSnapshot } from './support/store';
import { activityRuns, continuedAsNew, type Pending, pendingActivities, presumeDead, waitUntil } from './support/temporal';

type Kind = 'ingest' | 'sync';
type Phase = 'crawl' | 'clean' | 'embed' | 'load';
const ACTIVITY: Record<Phase, string> = { crawl: 'crawlSource', clean: 'cleanPart', embed: 'embedPart', load: 'loadPart' };
/** The suite's one unassisted kill: nobody tells the server, the retry waits for the 2-minute heartbeat timeout. */
const REAL_HEARTBEAT = new Set((process.env.TWINFLOW_FAULTS_REAL_HEARTBEAT ?? 'sync:load').split(',').map((s) => s.trim()));

const fx = ingestFaultFixture();
const { env, workers } = fx;

interface Reference {
  result: IngestResult | SyncResult;
  store: StoreSnapshot;
}

const reference: Record<Kind, () => Promise<Reference>> = {
  ingest: once(async () => {
    const lancedb = scratchDir('ref-ingest-lancedb');
    const collection = uniqueName('ref_ingest');
    fx.site.setVersion(1);
    const result = await runClean<IngestResult>(fx.client, 'ingest', siteIngestInput(fx.site, collection), env(lancedb));
    return { result, store: await snapshotStore(lancedb, collection) };
  }),
  sync: once(async () => {
    const lancedb = scratchDir('ref-sync-lancedb');
    const collection = uniqueName('ref_sync');
    const result = await withWorkerProcess(env(lancedb), 'clean-sync', async (taskQueue) => {
      fx.site.setVersion(1);
      await fx.client.workflow.execute('sync', { taskQueue, workflowId: `sync-clean-v1-${randomUUID()}`, args: [siteSyncInput(fx.site, collection)] });
      fx.site.setVersion(2);
      return (await fx.client.workflow.execute('sync', { taskQueue, workflowId: `sync-clean-v2-${randomUUID()}`, args: [siteSyncInput(fx.site, collection)] })) as SyncResult;
    });
    return { result, store: await snapshotStore(lancedb, collection) };
  }),
};

/**
 * Polls the run's pending activities until one of `type`, started on `worker`, satisfies `ready`; then freezes the
 * worker (SIGSTOP: the attempt can no longer complete), confirms that the attempt is still in flight at the server,
 * and kills the process (SIGKILL). An attempt that completed in between is let go and the next one is taken.
 */
async function killWhileInFlight(worker: WorkerProcess, workflowIds: string[], type: string, ready: (p: Pending) => Promise<boolean>): Promise<Pending> {
  return waitUntil(
    `a ${type} attempt in flight on worker ${worker.pid}`,
    async () => {
      for (const id of workflowIds) {
        for (const p of await pendingActivities(fx.client, id)) {
          if (p.type !== type || p.state !== 'started' || !p.worker.startsWith(worker.identityPrefix) || !(await ready(p))) continue;
          worker.freeze();
          const still = (await pendingActivities(fx.client, id)).find((q) => q.activityId === p.activityId && q.state === 'started' && q.attempt === p.attempt);
          if (still) {
            await worker.kill();
            return still;
          }
          worker.resume();
        }
      }
      return undefined;
    },
    240_000,
  );
}

async function killDuring(kind: Kind, phase: Phase): Promise<void> {
  const name = `${kind} worker kill -9 during ${phase}`;
  const ref = await reference[kind]();
  const started = Date.now();
  const lancedb = scratchDir(`${kind}-${phase}-lancedb`);
  const collection = uniqueName(`${kind}_${phase}`);
  const input = kind === 'ingest' ? siteIngestInput(fx.site, collection) : siteSyncInput(fx.site, collection);
  const taskQueue = `faults-kill-${randomUUID()}`;
  const first = await startWorkerProcess({ kind: 'cpu', taskQueue, env: env(lancedb), name: `${kind}-${phase}-doomed` });
  workers.push(first);
  fx.site.setVersion(1);
  if (kind === 'sync') {
    // The state the faulted sync diffs against: a clean first sync of version 1 (on the same worker, before the fault).
    await fx.client.workflow.execute('sync', { taskQueue, workflowId: `sync-first-${randomUUID()}`, args: [input] });
    fx.site.setVersion(2);
  }
  const workflowId = `${kind}-kill-${phase}-${randomUUID()}`;
  const handle = await fx.client.workflow.start(kind, { taskQueue, workflowId, args: [input] });
  const runId = handle.firstExecutionRunId;
  const runKey = `runs/${workflowId}/${runId}`;
  const childId = `${workflowId}--source-site`;
  const artifacts = createDeps(faultConfig()).artifacts;
  const articleHits = () => [...fx.site.articles().keys()].reduce((n, p) => n + fx.site.hitsOf(p), 0);
  const hitsBefore = articleHits();

  // What "in flight" means per phase: far enough in that the attempt has done part of its work.
  const embedRequestsAt = new Map<string, number>();
  const ready: Record<Phase, (p: Pending) => Promise<boolean>> = {
    // A raw part has been flushed (a crawl checkpoint exists) and the crawl goes on.
    crawl: () => artifacts.exists(partKey(runKey, 'raw', 'site', 0)),
    clean: async () => true,
    // The attempt has sent two embedding requests: its first batch is embedded and in the cache.
    embed: async (p) => {
      const key = `${p.activityId}#${p.attempt}`;
      const n = fx.embed.requestsTo('/v1/embeddings').length;
      if (!embedRequestsAt.has(key)) embedRequestsAt.set(key, n);
      return n >= embedRequestsAt.get(key)! + 2;
    },
    // At least one part is already loaded: the store is half written.
    load: async () => ((await handle.query<{ parts: { loaded: number } }>('progress')).parts.loaded ?? 0) >= 1,
  };
  const killed = await killWhileInFlight(first, [workflowId, childId], ACTIVITY[phase], ready[phase]);
  const killedAt = Date.now();

  // The server still holds the dead worker's attempt; retried after its heartbeat timeout, or at once if told.
  const unassisted = REAL_HEARTBEAT.has(`${kind}:${phase}`) || REAL_HEARTBEAT.has('all');
  const failed = unassisted ? [] : await presumeDead(fx.client, [workflowId, childId], first);
  if (!unassisted) expect(failed.map((f) => f.activityId)).toContain(killed.activityId);

  const second = await startWorkerProcess({ kind: 'cpu', taskQueue, env: env(lancedb), name: `${kind}-${phase}-successor` });
  workers.push(second);
  const result = (await fx.client.workflow.getHandle(workflowId).result()) as IngestResult | SyncResult;
  const recoveryMs = Date.now() - killedAt;
  const refetched = articleHits() - hitsBefore - fx.site.articles().size;

  // The same run finished the work: same workflowId and runId, completed, not continued as new.
  const desc = await fx.client.workflow.getHandle(workflowId).describe();
  expect(desc.runId).toBe(runId);
  expect(desc.status.name).toBe('COMPLETED');
  expect(await continuedAsNew(fx.client, workflowId, runId)).toBe(false);
  // The killed attempt's activity was retried and completed on the new worker.
  const runs = await activityRuns(fx.client, killed.workflowId, killed.runId);
  const retried = runs.find((r) => r.activityId === killed.activityId)!;
  expect(retried).toMatchObject({ type: ACTIVITY[phase], outcome: 'completed' });
  expect(retried.attempt).toBeGreaterThan(killed.attempt);
  expect(retried.lastFailure ?? '').toMatch(unassisted ? /heartbeat/i : /killed \(SIGKILL\)/);
  const otherRetries = [...runs, ...(await activityRuns(fx.client, workflowId, runId))].filter((r) => r.attempt > 1 && r.activityId !== killed.activityId);
  await second.stop();

  // Exact counts: the result and the store equal the clean run's.
  if (kind === 'ingest') {
    const r = result as IngestResult;
    const c = ref.result as IngestResult;
    expect(r.documents).toEqual(c.documents);
    expect(r.chunks).toBe(c.chunks);
    expect(r.vectors.written).toBe(c.vectors.written);
    expect(r.vectors.embedded + r.vectors.reused).toBe(c.vectors.embedded + c.vectors.reused);
    if (phase === 'embed') expect(r.vectors.reused).toBeGreaterThan(0); // the killed attempt's batches, from the cache
  } else {
    const r = result as SyncResult;
    const c = ref.result as SyncResult;
    expect(r.documents).toEqual(c.documents);
    expect(r.chunks.written).toBe(c.chunks.written);
    expect(r.chunks.embedded + r.chunks.reused).toBe(c.chunks.embedded + c.chunks.reused);
    expect(r.failedSources).toEqual([]);
    expect(await artifacts.exists(`state/${collection}/lock.json`)).toBe(false);
  }
  const after = await snapshotStore(lancedb, collection);
  const cmp = compareStores(ref.store, after);
  expect(cmp.problems).toEqual([]);

  const hb = killed.heartbeat as { partCounts?: number[] } | undefined;
  recordFaultRow({
    name,
    order: kind === 'ingest' ? 1 : 2,
    injected: `SIGKILL of the CPU worker process with ${killed.type} attempt ${killed.attempt} in flight (${phase} phase${phase === 'load' ? ', parts already loaded' : ''})`,
    happened:
      `${unassisted ? `nobody told the server: the attempt timed out after the 2 min heartbeat timeout` : 'the suite failed the dead attempt by id (as a supervisor would)'}; ` +
      `${killed.type} ran again as attempt ${retried.attempt} on a new worker process, the same run (${runId.slice(0, 8)}) completed ${(recoveryMs / 1000).toFixed(0)} s after the kill` +
      (phase === 'crawl' ? `; the retry resumed from a checkpoint of ${hb?.partCounts?.length ?? 0} part(s) the server held, ${Math.max(0, refetched)} page(s) fetched again` : '') +
      (otherRetries.length > 0 ? `; ${otherRetries.length} other activity attempt(s) retried (${[...new Set(otherRetries.map((r) => r.type))].join(', ')})` : ''),
    clean: { documents: ref.store.documents, points: ref.store.points },
    after: { documents: after.documents, points: after.points },
    lost: cmp.lost,
    duplicated: cmp.duplicated,
    metrics: { recoveryMs, attempt: retried.attempt, unassisted, refetchedPages: Math.max(0, refetched), otherRetries: otherRetries.length },
    wallMs: Date.now() - started,
  });
}

describe('kill -9 of the CPU worker', () => {
  for (const kind of ['ingest', 'sync'] as const) {
    for (const phase of ['crawl', 'clean', 'embed', 'load'] as const) {
      it(`${kind} worker kill -9 during ${phase}`, async () => {
        await killDuring(kind, phase);
      });
    }
  }
});
