/**
 * The demo end to end, twice, on the real test stack (`npm run test:demo`): the same code as `make demo` (runDemo),
 * with its own collection, task queues and site port, and a snapshot of this repository (so that other people's
 * commits and edits during the run cannot change the counts).
 *
 * Before the first run, the old demo is replayed: an `ingest` of its three sources with the website on another port,
 * as every run of the old demo did (a new random port each time). The first run must clean that up; the second must
 * change nothing: same point count, no duplicate (docId, chunkIndex), nothing embedded, and the change-data-capture
 * step's counts exact both times.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import { createDeps, type Deps } from '../../activities/deps';
import { demoNotes, type DemoReport, DEMO_SOURCE_IDS, runDemo } from '../../cli/demo';
import { startDemoSite } from '../../cli/demo-site';
import { PROJECT_ROOT } from '../../lib/config';
import type { IngestInput, IngestResult } from '../../lib/schemas/ingest';
import { isPhysicalCollectionOf, type SyncResult } from '../../lib/schemas/sync';
import { testConfig, WORKFLOW_BUNDLE_PATH } from '../harness/stack';
import { withWorker } from '../harness/worker';

const OFFSET = Number(process.env.TWINFLOW_TEST_PORT_OFFSET ?? 0);
/** Fixed, so that the web pages' chunk texts (links resolve against the origin) hit the persistent embedding cache. */
const SITE_PORT = 18765 + OFFSET;
const OLD_DEMO_PORT = 18764 + OFFSET;
const RUN = randomUUID().slice(0, 8);
const COLLECTION = `demo-e2e-${RUN}`;

const config = testConfig({
  // Persistent: its embedding cache makes every run after a machine's first one cheap. The collection is per run.
  LANCEDB_URI: path.join(PROJECT_ROOT, '.twinflow', 'test-cache', 'demo-lancedb'),
  TWINFLOW_TASK_QUEUE: `demo-e2e-${RUN}`,
  TWINFLOW_GPU_TASK_QUEUE: `demo-e2e-gpu-${RUN}`,
  TWINFLOW_WORKFLOW_BUNDLE: WORKFLOW_BUNDLE_PATH,
});

let tmp: string;
let deps: Deps;
let repoDir: string;
const runs: Array<{ report: DemoReport; output: string[]; seconds: number }> = [];
let legacy: IngestResult;

interface StoredPoint {
  docId: string;
  chunkIndex: number;
  location: string;
  contentHash: string;
  sourceId: string;
}

async function points(): Promise<StoredPoint[]> {
  const store = await deps.vectorStore();
  const physical = (await store.resolveAlias(COLLECTION))!;
  const out: StoredPoint[] = [];
  for await (const { payload: p } of store.scroll(physical)) out.push({ docId: p.docId, chunkIndex: p.chunkIndex, location: p.location, contentHash: p.contentHash, sourceId: p.sourceId });
  return out;
}

function duplicates(list: string[]): string[] {
  const seen = new Set<string>();
  return list.filter((k) => (seen.has(k) ? true : (seen.add(k), false)));
}

async function demo(): Promise<{ report: DemoReport; output: string[]; seconds: number }> {
  const output: string[] = [];
  const started = performance.now();
  const report = await runDemo({
    config,
    stack: false,
    collection: COLLECTION,
    sitePort: SITE_PORT,
    repoUrl: `file://${repoDir}`,
    docsDir: path.join(repoDir, 'docs'),
    workDir: path.join(tmp, 'work'),
    log: (l) => output.push(l),
  });
  const run = { report, output, seconds: Math.round((performance.now() - started) / 100) / 10 };
  process.stderr.write(`[demo e2e] run ${runs.length + 1}: ${run.seconds}s, ${report.points} points\n`);
  // TWINFLOW_DEMO_E2E_LOG=dir keeps each run's transcript there.
  const keep = process.env.TWINFLOW_DEMO_E2E_LOG;
  if (keep) fs.writeFileSync(path.join(keep, `demo-run-${runs.length + 1}.log`), `${output.join('\n')}\n`);
  runs.push(run);
  return run;
}

/** One edit, one deletion and one addition in the notes, nothing else. */
function expectChangeCounts(r: SyncResult) {
  expect(r.status).toBe('ok');
  expect(r.documents).toEqual({ inserted: 1, updated: 1, deleted: 1, unchanged: demoNotes().size - 2, retained: 0 });
  expect(r.sources.filter((s) => s.status !== 'untouched').map((s) => s.sourceId)).toEqual([DEMO_SOURCE_IDS.notes]);
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-demo-e2e-'));
  repoDir = path.join(tmp, 'repo');
  execFileSync('git', ['clone', '-q', '--depth', '1', `file://${PROJECT_ROOT}`, repoDir]);
  deps = createDeps(config);

  // The old demo: its three sources, the website on another port, loaded with `ingest` (which never deletes).
  const site = await startDemoSite({ port: OLD_DEMO_PORT });
  try {
    const input: IngestInput = {
      collection: COLLECTION,
      sources: [
        { type: 'web', id: DEMO_SOURCE_IDS.web, sitemaps: [`${site.baseUrl}/sitemap.xml`] },
        { type: 'git', id: DEMO_SOURCE_IDS.git, url: `file://${repoDir}`, include: ['README.md', 'docs/**/*.md'] },
        { type: 'folder', id: DEMO_SOURCE_IDS.docs, path: path.join(repoDir, 'docs') },
      ],
    } as IngestInput;
    legacy = await withWorker(config, createActivities(deps), ({ client, taskQueue }) =>
      client.workflow.execute('ingest', { taskQueue, workflowId: `demo-e2e-old-demo-${RUN}`, args: [input] }),
    );
  } finally {
    await site.close();
  }
});

afterAll(async () => {
  if (deps) {
    const store = await deps.vectorStore();
    for (const name of await store.listCollections()) if (isPhysicalCollectionOf(COLLECTION, name)) await store.dropCollection(name);
    await deps.artifacts.deletePrefix(`state/${COLLECTION}/`);
    await store.close();
  }
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('make demo, twice', () => {
  it('the first run tells the whole story and removes what the old demo left', async () => {
    expect(legacy.documents.loaded).toBeGreaterThan(6);
    const { report, output } = await demo();
    const text = output.join('\n');

    // 1. Feature pipeline: the old demo's pages (another origin) and its git documents that the demo no longer reads
    // are deleted; the website is loaded once, from the fixed origin.
    expect(report.legacyDocuments).toBe(6);
    expect(report.feature.status).toBe('ok');
    const bySource = Object.fromEntries(report.feature.sources.map((s) => [s.sourceId, s]));
    const docsFiles = fs.readdirSync(path.join(repoDir, 'docs')).filter((f) => f.endsWith('.md')).length;
    if (report.feature.rebuilt) {
      // The index identity (embedding model id, chunking) changed since the old demo's ingest, e.g. a new model file
      // in .twinflow/models: the sync built a new index from the sources and dropped the old one, leftovers included.
      expect(report.feature.droppedCollection).toBeDefined();
      expect(report.feature.documents.deleted).toBe(0);
    } else {
      expect(bySource[DEMO_SOURCE_IDS.web]).toMatchObject({ deleted: 6 });
      expect(bySource[DEMO_SOURCE_IDS.git]).toMatchObject({ deleted: docsFiles });
    }
    expect(bySource[DEMO_SOURCE_IDS.web]).toMatchObject({ fetched: 6, inserted: 6 });
    expect(bySource[DEMO_SOURCE_IDS.docs]).toMatchObject({ inserted: docsFiles, deleted: 0 });
    expect(bySource[DEMO_SOURCE_IDS.notes]).toMatchObject({ inserted: demoNotes().size });
    expect(text).toContain(`Found 6 page(s) from earlier demo runs on other ports`);

    const stored = await points();
    expect(stored.length).toBe(report.points);
    expect(duplicates(stored.map((p) => `${p.docId}#${p.chunkIndex}`))).toEqual([]);
    expect(stored.filter((p) => p.location.startsWith(`http://127.0.0.1:${OLD_DEMO_PORT}/`))).toEqual([]);
    // No two documents with the same content (the git source and the docs folder do not overlap).
    const docs = new Map(stored.map((p) => [p.docId, p.contentHash]));
    expect(duplicates([...docs.values()])).toEqual([]);

    // 2. Change data capture: exact counts, the change searchable, then gone again.
    expectChangeCounts(report.change);
    expectChangeCounts(report.restore);
    expect(report.restore.chunks.embedded).toBe(0);
    expect(report.changeSearch).toEqual({ foundAfterChange: true, foundAfterRestore: false });

    // 3. Training: the report table in the seed's format, and the chart.
    expect(report.trainSkipped).toBeUndefined();
    expect(report.train!.report.markdown).toContain('| model | text ROUGE-Lsum | ratings RMSE |');
    expect(report.train!.report.markdown).toMatch(/\| tiny-llama-lora \| \d\.\d{4} \|/);
    // The example's run learns its task: its gate (beat both no-LLM floors) passes, and the dry run writes the files.
    expect(report.train!.publish).toMatchObject({ gatePassed: true, dryRun: true });
    expect(text).toContain('| model | text ROUGE-Lsum | ratings RMSE |');
    expect(report.train!.report.chartUri).toMatch(/^s3:\/\/.+\/report\/chart\.svg$/);
    expect(fs.readFileSync(report.chartFile!, 'utf8')).toContain('<svg');
    expect(text).toContain(report.train!.report.chartUri);

    // 4. Retrieval with sources; 5. a Web UI link for every run.
    for (const hits of Object.values(report.hits)) {
      expect(hits.length).toBeGreaterThan(0);
      for (const h of hits) expect(text).toContain(h.payload.url ?? h.payload.location);
    }
    expect(report.runs.map((r) => r.step)).toEqual(['feature pipeline', 'cdc: change', 'cdc: restore', 'training']);
    for (const r of report.runs) {
      expect(r.url).toBe(`http://127.0.0.1:${config.stack.temporalUiPort}/namespaces/default/workflows/${r.workflowId}/${r.runId}/history`);
      expect(r.runId).toMatch(/^[0-9a-f-]{36}$/);
      expect(text).toContain(r.url);
    }
  });

  it('the second run changes nothing: same points, nothing embedded, the same change counts', async () => {
    expect(runs).toHaveLength(1);
    const first = runs[0]!.report;
    const { report } = await demo();

    expect(report.legacyDocuments).toBe(0);
    expect(report.feature.status).toBe('ok');
    const stored = await points();
    const documents = new Set(stored.map((p) => p.docId)).size;
    expect(report.feature.documents).toEqual({ inserted: 0, updated: 0, deleted: 0, unchanged: documents, retained: 0 });
    expect(report.feature.chunks).toEqual({ embedded: 0, reused: 0, written: 0, deleted: 0 });
    expect(report.runs.filter((r) => r.step.startsWith('feature pipeline'))).toHaveLength(1);

    expect(report.points).toBe(first.points);
    expect(stored.length).toBe(first.points);
    expect(duplicates(stored.map((p) => `${p.docId}#${p.chunkIndex}`))).toEqual([]);

    expectChangeCounts(report.change);
    expectChangeCounts(report.restore);
    // The demo makes the same change every run: its chunks are in the embedding cache now.
    expect(report.change.chunks.embedded).toBe(0);
    expect(report.change.chunks).toEqual(first.change.chunks.embedded === 0 ? first.change.chunks : { ...first.change.chunks, embedded: 0, reused: first.change.chunks.reused + first.change.chunks.embedded });
    expect(report.restore.chunks).toEqual(first.restore.chunks);

    // Search shows each section once.
    for (const hits of Object.values(report.hits)) expect(duplicates(hits.map((h) => h.text))).toEqual([]);
    expect(report.train!.report.markdown).toContain('| model | text ROUGE-Lsum | ratings RMSE |');
  });
});
