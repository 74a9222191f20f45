/**
 * The cluster rehearsal: on the cluster profile (full Temporal server on PostgreSQL, MinIO, two CPU worker processes
 * and a GPU worker, LanceDB on S3 shared by the workers), an ingest of a generated site of PAGES pages, with the
 * Temporal server restarted mid-run and one CPU worker killed (SIGKILL, nobody tells the server: its activities
 * come back after their 2-minute heartbeat timeout). The run completes with exact counts and the shared store holds
 * every page once. The activities' worker identities (from history) show how the work spread over the workers.
 * Results go to .twinflow/cluster/rehearsal-report.json (docs/deploy.md quotes them).
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownedPid, stopProcess } from '../../infra/processes';
import { startServer, ensureServerBinaries, waitForServer } from '../../infra/cluster/temporal-server';
import { workersUp } from '../../infra/cluster/workers';
import type { IngestInput, IngestResult } from '../../lib/schemas/ingest';
import { storageOptionsFor } from '../../lib/vectorstore';
import { LanceDBStore } from '../../lib/vectorstore/lancedb';
import { CLUSTER_DIR, clusterConfig, clusterOptions } from './cluster-env';
import { type GeneratedSite, startGeneratedSite } from './generated-site';
import { REHEARSAL_ENV_FILE } from './global-setup';
import { treeStats } from './history';

const PAGES = Number(process.env.TWINFLOW_REHEARSAL_PAGES ?? 2000);
const REPORT = path.join(CLUSTER_DIR, 'rehearsal-report.json');
const extra = JSON.parse(fs.readFileSync(REHEARSAL_ENV_FILE, 'utf8')) as Record<string, string>;
const config = clusterConfig(extra);
const o = clusterOptions(extra);

let site: GeneratedSite;
let connection: Connection;
let client: Client;
const report: Record<string, unknown> = {};

beforeAll(async () => {
  site = await startGeneratedSite(PAGES);
  connection = await Connection.connect({ address: config.temporal.address });
  client = new Client({ connection, namespace: config.temporal.namespace });
});

afterAll(async () => {
  fs.writeFileSync(REPORT, `${JSON.stringify({ at: new Date().toISOString(), pages: PAGES, ...report }, null, 2)}\n`);
  await connection?.close();
  await site?.close();
});

async function storeContents(collection: string) {
  const store = new LanceDBStore({ uri: config.vectorStore.lancedbUri, storageOptions: storageOptionsFor(config.s3) });
  try {
    const ids: string[] = [];
    const docs = new Map<string, number>();
    for await (const p of store.scroll(collection)) {
      ids.push(p.id);
      docs.set(p.payload.docId, (docs.get(p.payload.docId) ?? 0) + 1);
    }
    return { points: ids.length, distinctIds: new Set(ids).size, documents: docs.size, urls: new Set([...docs.keys()]).size };
  } finally {
    await store.close();
  }
}

describe('cluster rehearsal', () => {
  it(`an ingest of ${PAGES} pages survives a Temporal server restart and a killed worker, with exact counts`, async () => {
    const collection = `rehearsal_${Date.now().toString(36)}`;
    const input: IngestInput = {
      collection,
      sources: [{ type: 'web', id: 'site', sitemaps: [site.sitemapUrl], maxPages: PAGES, perHostRps: 400, perHostConcurrency: 16 }],
      cleaning: { minChars: 100 },
      partSize: 50,
      concurrency: 8,
    };
    const started = Date.now();
    const handle = await client.workflow.start('ingest', { taskQueue: config.temporal.taskQueue, workflowId: `rehearsal-ingest-${collection}`, args: [input] });
    const timeline: Array<{ atS: number; event: string }> = [];
    const mark = (event: string) => timeline.push({ atS: Math.round((Date.now() - started) / 100) / 10, event });

    // 1. Once the crawl is done and parts are being processed: restart the Temporal server (a real process).
    const describeProgress = async () => {
      try {
        const stats = await treeStats(client, { workflowId: handle.workflowId });
        return Object.entries(stats.attemptsByWorker).reduce((n, [type, w]) => n + (type === 'cleanPart' ? Object.values(w).reduce((a, b) => a + b, 0) : 0), 0);
      } catch {
        return 0;
      }
    };
    for (let i = 0; i < 600 && (await describeProgress()) < 4; i++) {
      const { status } = await handle.describe();
      if (status.name !== 'RUNNING') throw new Error(`the ingest ended (${status.name}) before the faults: ${JSON.stringify(await handle.result().catch((e: Error) => e.message)).slice(0, 2000)}`);
      await sleep(500);
    }
    mark('4 clean activities started: stopping the Temporal server');
    const bins = await ensureServerBinaries(config.home, () => undefined);
    const oldServer = await stopProcess(o.dir, 'temporal-server', 20_000);
    await sleep(3_000);
    startServer(o, bins);
    await waitForServer(o);
    mark(`Temporal server restarted (old pid ${oldServer}, new pid ${ownedPid(o.dir, 'temporal-server')})`);

    // 2. Then kill one CPU worker (SIGKILL) while it holds activities.
    await sleep(5_000);
    const victim = ownedPid(o.dir, 'worker-cpu-2');
    expect(victim, 'worker-cpu-2 runs').toBeDefined();
    process.kill(-victim!, 'SIGKILL');
    mark(`worker-cpu-2 (pid ${victim}) killed with SIGKILL`);

    const result = (await handle.result()) as IngestResult;
    const wallS = (Date.now() - started) / 1000;
    mark('ingest completed');

    const stats = await treeStats(client, { workflowId: handle.workflowId });
    const contents = await storeContents(collection);
    const identities = [...new Set(Object.values(stats.attemptsByWorker).flatMap((w) => Object.keys(w)))];
    Object.assign(report, {
      ingest: { wallS, documents: result.documents, chunks: result.chunks, vectors: result.vectors },
      store: contents,
      history: { runs: stats.runs, children: stats.children, continuedAsNew: stats.continuedAsNew, events: stats.events, payloadBytes: stats.payloadBytes },
      attemptsByWorker: stats.attemptsByWorker,
      killedWorkerPid: victim,
      timeline,
    });

    expect(result.documents.fetched).toBe(PAGES);
    expect(result.documents.loaded).toBe(PAGES);
    expect(result.chunks).toBe(PAGES); // one chunk per page
    expect(contents).toEqual({ points: PAGES, distinctIds: PAGES, documents: PAGES, urls: PAGES });
    // Both CPU workers ran activities: the identities of at least two processes appear, the killed one among them.
    expect(identities.length).toBeGreaterThanOrEqual(2);
    expect(identities.some((id) => id.startsWith(`${victim}@`))).toBe(true);

    // The killed worker comes back for the next tests.
    await workersUp(o, () => undefined);
  });
});
