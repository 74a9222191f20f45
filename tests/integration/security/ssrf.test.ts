/**
 * The network policy through real workflows on the test stack (Temporal, MinIO, LanceDB, the local model): a web
 * source on 127.0.0.1 crawled by a worker whose TWINFLOW_ALLOW_NETWORKS does not cover it (127.0.0.2/32 only).
 * The ingest run says why in its result and its report, and stores nothing; a sync of a collection whose source is
 * now refused deletes nothing (a refusal is a failure, not evidence that the pages are gone).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../../activities';
import { createDeps, type Deps } from '../../../activities/deps';
import type { IngestResult } from '../../../lib/schemas/ingest';
import type { SyncResult } from '../../../lib/schemas/sync';
import { testConfig } from '../../harness/stack';
import { withWorker } from '../../harness/worker';
import { points, uniqueCollection } from '../sync/helpers';

const lancedb = path.join(os.tmpdir(), `twinflow-ssrf-${process.pid}-lancedb`);
/** The harness allows loopback; this worker allows only 127.0.0.2, so the site on 127.0.0.1 is refused. */
const refusing = testConfig({ LANCEDB_URI: lancedb, TWINFLOW_ALLOW_NETWORKS: '127.0.0.2/32' });
const allowing = testConfig({ LANCEDB_URI: lancedb });

let server: http.Server;
let base: string;
let requests = 0;
const PAGES = ['otters', 'kestrels'];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    requests++;
    if (req.url === '/robots.txt') return res.writeHead(404).end();
    if (req.url === '/sitemap.xml') {
      const urls = PAGES.map((p) => `<url><loc>${base}/${p}</loc></url>`).join('');
      return res.writeHead(200, { 'content-type': 'application/xml' }).end(`<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">${urls}</urlset>`);
    }
    const topic = req.url?.slice(1) ?? '';
    res.writeHead(200, { 'content-type': 'text/html' }).end(
      `<!doctype html><html><head><title>On ${topic}</title></head><body><article><h1>On ${topic}</h1>` +
        `<p>${`Field notes about ${topic}, written down one paragraph at a time for the archive of the society. `.repeat(6)}</p></article></body></html>`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server?.close(r));
});

function webSource() {
  return { type: 'web' as const, id: 'site', sitemaps: [`${base}/sitemap.xml`], perHostRps: 100, timeoutMs: 3000, retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 } };
}

async function run<T>(deps: Deps, workflow: 'ingest' | 'sync', input: unknown): Promise<T> {
  return withWorker(deps.config, createActivities(deps), ({ client, taskQueue }) =>
    client.workflow.execute(workflow, { taskQueue, workflowId: `ssrf-${workflow}-${taskQueue}`, args: [input] }) as Promise<T>,
  );
}

describe('network policy in real workflows', () => {
  it('an ingest of a refused site reports the refusal and stores nothing', async () => {
    const deps = createDeps(refusing);
    const collection = uniqueCollection('ssrf_ingest');
    const result = await run<IngestResult>(deps, 'ingest', { collection, sources: [webSource()] });
    expect(requests).toBe(0);
    expect(result.documents.fetched).toBe(0);
    expect(result.vectors.written).toBe(0);
    const source = result.sources[0]!;
    expect(source.failed).toEqual({ network_refused: 1 });
    expect(source.listing.complete).toBe(false);
    expect(source.issues[0]).toMatchObject({ location: `${base}/sitemap.xml`, kind: 'failed', reason: 'network_refused' });
    expect(source.issues[0]!.detail).toContain('refused to connect to 127.0.0.1: the address is in 127.0.0.0/8 (loopback)');
    expect(source.issues[0]!.detail).toContain('TWINFLOW_ALLOW_NETWORKS=loopback');
    const report = await deps.artifacts.readAllJsonl<{ reason: string }>(source.reportUri);
    expect(report.map((r) => r.reason)).toEqual(['network_refused']);
    expect(await points(deps, collection).catch(() => [])).toEqual([]);
  });

  it('a sync whose source is now refused deletes nothing', async () => {
    const collection = uniqueCollection('ssrf_sync');
    const first = await run<SyncResult>(createDeps(allowing), 'sync', { collection, sources: [webSource()] });
    expect(first.documents.inserted).toBe(2);
    const deps = createDeps(refusing);
    const before = (await points(deps, collection)).map((p) => p.id).sort();
    expect(before.length).toBeGreaterThan(0);

    const served = requests;
    const second = await run<SyncResult>(deps, 'sync', { collection, sources: [webSource()] });
    expect(requests).toBe(served); // the refused worker never reached the site
    expect(second.documents).toMatchObject({ inserted: 0, updated: 0, deleted: 0, retained: 2 });
    expect(second.chunks.deleted).toBe(0);
    // Nothing could be read: the source failed (saying why), and what it had stays.
    expect(second.failedSources).toEqual(['site']);
    expect(second.sources[0]).toMatchObject({ status: 'failed', kept: { source_failed: 2 } });
    expect(second.sources[0]!.error).toContain('network_refused');
    expect((await points(deps, collection)).map((p) => p.id).sort()).toEqual(before);
  });
});
