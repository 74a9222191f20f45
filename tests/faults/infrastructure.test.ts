/**
 * Faults 3-6: the infrastructure under a running ingest fails for a while, then comes back; the run waits, retries
 * and completes with the store equal to a clean run of the same input.
 *
 * 3. MinIO stopped for 30 s (the artifact store: every step reads and writes its parts there).
 * 4. The Temporal dev server restarted (SIGTERM, then started again on the same SQLite file).
 * 5. The vector store unwritable for 20 s: the LanceDB folder is a tmpfs of its own, remounted read-only (EROFS for
 *    every writer, root included); where mounting is not permitted, the folder is replaced by a file (ENOTDIR).
 * 6. The embedding endpoint (OpenAI wire format) answering 429 with Retry-After and 500 for its first requests.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import type { IngestProgress, IngestResult } from '../../lib/schemas/ingest';
import { recordFaultRow } from '../harness/fault-report';
import { restartTemporal, stackHealthy, startMinio, stopMinio } from '../harness/fault-stack';
import { startWorkerProcess, type WorkerProcess } from '../harness/fault-worker';
import { fakeEmbedding } from '../helpers/openai-server';
import { siteIngestInput } from './support/corpus';
import { ingestFaultFixture } from './support/ingest-fixture';
import { once, runClean, scratchDir, uniqueName } from './support/run';
import { compareStores, snapshotStore } from './support/store';
import { type ActivityRun, activityRuns, pendingActivities, waitUntil } from './support/temporal';

const mounts: string[] = [];
const fx = ingestFaultFixture({
  afterWorkers: async () => {
    for (const m of mounts) spawnSync('umount', ['-l', m]);
    // A failed test must not leave the stack half down for the next file.
    if (!(await stackHealthy())) {
      await startMinio().catch(() => undefined);
    }
  },
});
const { env, workers } = fx;

const reference = once(async () => {
  const lancedb = scratchDir('ref-infra-lancedb');
  const collection = uniqueName('ref_infra');
  fx.site.setVersion(1);
  const result = await runClean<IngestResult>(fx.client, 'ingest', siteIngestInput(fx.site, collection), env(lancedb));
  return { result, store: await snapshotStore(lancedb, collection) };
});

interface Faulted {
  handle: WorkflowHandle;
  runId: string;
  worker: WorkerProcess;
  lancedb: string;
  collection: string;
  started: number;
}

async function startIngest(tag: string, lancedb = scratchDir(`${tag}-lancedb`)): Promise<Faulted> {
  await reference();
  const started = Date.now();
  const collection = uniqueName(tag);
  const taskQueue = `faults-${tag}-${randomUUID()}`;
  const worker = await startWorkerProcess({ kind: 'cpu', taskQueue, env: env(lancedb), name: tag });
  workers.push(worker);
  fx.site.setVersion(1);
  const handle = await fx.client.workflow.start('ingest', { taskQueue, workflowId: `ingest-${tag}-${randomUUID()}`, args: [siteIngestInput(fx.site, collection)] });
  return { handle, runId: handle.firstExecutionRunId, worker, lancedb, collection, started };
}

/** The run's progress query; undefined until the workflow has registered it (its first workflow task). */
const progressOf = (f: Faulted) => f.handle.query<IngestProgress>('progress').catch(() => undefined);

/** Waits for the run, checks it is the same run and that the store equals the clean run's; returns the retried attempts. */
async function finish(f: Faulted): Promise<{ result: IngestResult; retried: ActivityRun[]; lost: number; duplicated: number; documents: number; points: number }> {
  const result = (await fx.client.workflow.getHandle(f.handle.workflowId).result()) as IngestResult;
  const desc = await fx.client.workflow.getHandle(f.handle.workflowId).describe();
  expect(desc.runId).toBe(f.runId);
  expect(desc.status.name).toBe('COMPLETED');
  await f.worker.stop();
  const ref = await reference();
  expect(result.documents).toEqual(ref.result.documents);
  expect(result.chunks).toBe(ref.result.chunks);
  expect(result.vectors.written).toBe(ref.result.vectors.written);
  const after = await snapshotStore(f.lancedb, f.collection);
  const cmp = compareStores(ref.store, after);
  expect(cmp.problems).toEqual([]);
  const runs = [...(await activityRuns(fx.client, f.handle.workflowId, f.runId)), ...(await activityRuns(fx.client, `${f.handle.workflowId}--source-site`))];
  return { result, retried: runs.filter((r) => r.attempt > 1), lost: cmp.lost, duplicated: cmp.duplicated, documents: after.documents, points: after.points };
}

function describeRetries(retried: ActivityRun[]): string {
  if (retried.length === 0) return 'no activity needed a retry';
  const byType = new Map<string, number>();
  for (const r of retried) byType.set(r.type, Math.max(byType.get(r.type) ?? 0, r.attempt));
  const first = retried[0]!.lastFailure?.split('\n')[0]?.slice(0, 90);
  return `${retried.length} activit${retried.length === 1 ? 'y' : 'ies'} retried (${[...byType].map(([t, a]) => `${t} up to attempt ${a}`).join(', ')}; e.g. "${first}")`;
}

describe('infrastructure faults under a running ingest', () => {
  it('ingest MinIO stopped 30 s mid-run', async () => {
    const name = 'ingest MinIO stopped 30 s mid-run';
    const f = await startIngest('minio');
    await waitUntil('a loaded part', async () => (((await progressOf(f))?.parts.loaded ?? 0) >= 1 ? true : undefined), 240_000, 50);
    const stoppedAt = Date.now();
    await stopMinio();
    await sleep(30_000);
    await startMinio();
    const downMs = Date.now() - stoppedAt;
    const r = await finish(f);
    const completedAfterMs = Date.now() - stoppedAt - downMs;
    expect(r.retried.length).toBeGreaterThan(0);
    recordFaultRow({
      name,
      order: 4,
      injected: `MinIO stopped (SIGTERM) after the first part was loaded, started again on the same data ${(downMs / 1000).toFixed(0)} s later`,
      happened: `${describeRetries(r.retried)}; the run completed ${(completedAfterMs / 1000).toFixed(0)} s after MinIO was back (the next retry of the activity's backoff)`,
      clean: { documents: (await reference()).store.documents, points: (await reference()).store.points },
      after: { documents: r.documents, points: r.points },
      lost: r.lost,
      duplicated: r.duplicated,
      metrics: { downMs, retriedActivities: r.retried.length, maxAttempt: Math.max(...r.retried.map((x) => x.attempt)) },
      wallMs: Date.now() - f.started,
    });
  });

  it('ingest Temporal server restarted mid-run', async () => {
    const name = 'ingest Temporal server restarted mid-run';
    const f = await startIngest('temporal');
    await waitUntil('an embedded part', async () => (((await progressOf(f))?.parts.embedded ?? 0) >= 1 ? true : undefined), 240_000, 50);
    const at = (await progressOf(f))!;
    const restarted = await restartTemporal(10_000);
    const backAt = Date.now();
    const r = await finish(f);
    const completedAfterMs = Date.now() - backAt;
    recordFaultRow({
      name,
      order: 5,
      injected: `Temporal dev server SIGTERM at ${at.parts.embedded}/${at.parts.total} parts embedded, started again on the same SQLite file 10 s later (down ${(restarted.downMs / 1000).toFixed(1)} s)`,
      happened: `the worker process and the client reconnected by themselves; ${describeRetries(r.retried)}; the same run completed ${(completedAfterMs / 1000).toFixed(0)} s after the server was back`,
      clean: { documents: (await reference()).store.documents, points: (await reference()).store.points },
      after: { documents: r.documents, points: r.points },
      lost: r.lost,
      duplicated: r.duplicated,
      metrics: { downMs: restarted.downMs, completedAfterMs, retriedActivities: r.retried.length },
      wallMs: Date.now() - f.started,
    });
  });

  it('ingest vector store unwritable 20 s during the load', async () => {
    const name = 'ingest vector store unwritable 20 s during the load';
    const lancedb = scratchDir('unwritable-lancedb');
    // The folder gets a file system of its own that can be made read-only: EROFS stops root too (chmod does not).
    const mounted = !process.env.TWINFLOW_FAULTS_NO_MOUNT && spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=512m', 'tmpfs', lancedb]).status === 0;
    if (mounted) mounts.push(lancedb);
    const f = await startIngest('unwritable', lancedb);
    const makeUnwritable = (): boolean => {
      if (mounted) return spawnSync('mount', ['-o', 'remount,ro', lancedb]).status === 0;
      fs.renameSync(lancedb, `${lancedb}.away`);
      fs.writeFileSync(lancedb, 'not a directory');
      return true;
    };
    const makeWritable = () => {
      if (mounted) expect(spawnSync('mount', ['-o', 'remount,rw', lancedb]).status).toBe(0);
      else {
        fs.rmSync(lancedb);
        fs.renameSync(`${lancedb}.away`, lancedb);
      }
    };
    // While a loadPart is in flight (after the first part is loaded): the worker is frozen for the moment of the
    // switch, so the attempt is still running when its store stops taking writes. A remount fails (EBUSY) while a
    // file is open for writing: then the worker runs on a moment and the switch is tried again.
    let at: IngestProgress | undefined;
    await waitUntil(
      'the store made unwritable under a loadPart in flight',
      async () => {
        const progress = await progressOf(f);
        if (!progress || progress.parts.loaded < 1) return undefined;
        const inFlight = (await pendingActivities(fx.client, f.handle.workflowId)).find((p) => p.type === 'loadPart' && p.state === 'started');
        if (!inFlight) return undefined;
        f.worker.freeze();
        try {
          if (!makeUnwritable()) return undefined;
          const still = (await pendingActivities(fx.client, f.handle.workflowId)).some((p) => p.activityId === inFlight.activityId && p.state === 'started' && p.attempt === inFlight.attempt);
          if (!still) {
            makeWritable();
            return undefined;
          }
          at = progress;
          return true;
        } finally {
          f.worker.resume();
        }
      },
      240_000,
      5,
    );
    const began = Date.now();
    if (mounted) expect(() => fs.writeFileSync(`${lancedb}/probe`, 'x')).toThrow(/EROFS/);
    const mechanism = mounted
      ? 'its tmpfs remounted read-only (EROFS on every write, root included; reads still work)'
      : 'the folder replaced by a file (ENOTDIR on every access, root included)';
    await sleep(20_000);
    makeWritable();
    const heldMs = Date.now() - began;
    const r = await finish(f);
    const load = r.retried.find((x) => x.type === 'loadPart');
    expect(load?.lastFailure ?? '').toMatch(mounted ? /read-only|EROFS|os error 30/i : /not a directory|ENOTDIR|os error 20/i);
    recordFaultRow({
      name,
      order: 6,
      injected: `LanceDB folder unwritable for ${(heldMs / 1000).toFixed(0)} s from a loadPart in flight at ${at!.parts.loaded}/${at!.parts.total} parts loaded: ${mechanism}`,
      happened: `${describeRetries(r.retried)}; the run completed once the store was writable again`,
      clean: { documents: (await reference()).store.documents, points: (await reference()).store.points },
      after: { documents: r.documents, points: r.points },
      lost: r.lost,
      duplicated: r.duplicated,
      metrics: { heldMs, mechanism: mounted ? 'tmpfs remount,ro' : 'dir replaced by file', retriedActivities: r.retried.length },
      wallMs: Date.now() - f.started,
    });
  });

  it('ingest embedding endpoint answering 429 and 500', async () => {
    const name = 'ingest embedding endpoint answering 429 and 500';
    const f = await startIngest('embed429');
    // Armed when the first part's embedding starts: its requests (one at a time) get 429 / 500 alternately.
    await waitUntil('the embed step', async () => (((await progressOf(f))?.parts.chunked ?? 0) >= 1 ? true : undefined), 240_000, 20);
    const FAILURES = 10;
    const base = fx.embed.requests.length;
    fx.embed.failNext(...Array.from({ length: FAILURES }, (_, i) => (i % 2 === 0 ? { status: 429, headers: { 'retry-after': '1' }, message: 'Rate limit reached' } : { status: 500, message: 'upstream overloaded' })));
    // Arrival times of the requests, to check that Retry-After was honoured.
    const arrivals: number[] = [];
    const watch = setInterval(() => {
      while (base + arrivals.length < fx.embed.requests.length && arrivals.length <= FAILURES) arrivals.push(Date.now());
    }, 5);
    let r;
    try {
      r = await finish(f);
    } finally {
      clearInterval(watch);
    }
    const failed = fx.embed.requests.slice(base, base + FAILURES);
    expect(failed.length).toBe(FAILURES);
    // After each 429 (Retry-After: 1) the client waited about a second before the next request.
    const after429 = arrivals.slice(1).filter((_, i) => i % 2 === 0).map((t, i) => t - arrivals[i * 2]!);
    expect(Math.min(...after429)).toBeGreaterThanOrEqual(900);
    expect(r.retried.some((x) => x.type === 'embedPart')).toBe(true);
    // The vectors are the endpoint's.
    const snap = await snapshotStore(f.lancedb, f.collection, { withVectors: true });
    let worst = 0;
    for (const p of snap.full!) {
      const want = fakeEmbedding(p.text, 16);
      worst = Math.max(worst, ...p.vector.map((v, i) => Math.abs(v - want[i]!)));
    }
    expect(snap.full!.length).toBe(snap.points);
    expect(worst).toBeLessThan(1e-5);
    recordFaultRow({
      name,
      order: 7,
      injected: `the embedding endpoint (EMBEDDING_PROVIDER=openai, a local server speaking the OpenAI wire format) answered its next ${FAILURES} requests with 429 (Retry-After: 1) and 500 alternately`,
      happened: `the client waited ≥ ${(Math.min(...after429) / 1000).toFixed(1)} s after each 429, retried the 500s with backoff, gave up after 7 tries (a retryable failure), and ${describeRetries(r.retried)}; every stored vector is the endpoint's (max deviation ${worst.toExponential(1)})`,
      clean: { documents: (await reference()).store.documents, points: (await reference()).store.points },
      after: { documents: r.documents, points: r.points },
      lost: r.lost,
      duplicated: r.duplicated,
      metrics: { failures: FAILURES, retriedActivities: r.retried.length, minWaitAfter429Ms: Math.min(...after429) },
      wallMs: Date.now() - f.started,
    });
  });
});
