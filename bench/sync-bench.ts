/**
 * Change-data-capture benchmark: `sync` over a generated folder of documents (default 1,000), through a real Temporal
 * worker, MinIO and LanceDB with the local MiniLM model, in one run:
 *   1. full sync (empty collection and embedding cache: every chunk is embedded),
 *   2. re-sync with no change,
 *   3. re-sync after editing 1% of the documents (one section each; the others' chunks come from the cache).
 * Reports wall time and chunks embedded for each; goals: no-change < 5% of the full sync's time, 1% change < 10%.
 *
 *   bin/twinflow stack up && node --import tsx bench/sync-bench.ts [--docs 1000] [--out file.json]
 *
 * Uses the local stack of your configuration (default ports), a fresh LanceDB folder and a fresh collection.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createActivities } from '../activities';
import { createDeps } from '../activities/deps';
import { TwinflowClient } from '../client';
import { stackOptionsFromConfig, stackUp } from '../infra/stack';
import { loadConfig } from '../lib/config';
import { withAllowedPaths } from '../lib/security/resources';
import type { SyncInput, SyncResult } from '../lib/schemas/sync';
import { connectWorker, createWorker } from '../workers/worker';

const { values } = parseArgs({
  options: {
    docs: { type: 'string', default: '1000' },
    changed: { type: 'string', default: '0.01' },
    out: { type: 'string' },
  },
});
const DOCS = Number(values.docs);
const CHANGED = Math.max(1, Math.round(DOCS * Number(values.changed)));

const WORDS = ('river stone lantern harbour meadow copper falcon orchard glacier ember willow compass thunder velvet ' +
  'quarry saffron beacon tundra marble cobalt juniper canyon prism harvest nebula anchor cedar delta').split(' ');

/** A deterministic pseudo-random note: two sections of varied sentences (one chunk of up to 128 tokens each). */
function noteText(i: number, revision = 0): string {
  let seed = i * 7919 + 17;
  const rnd = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
  const sentence = () => {
    const n = 8 + Math.floor(rnd() * 10);
    const words = Array.from({ length: n }, () => WORDS[Math.floor(rnd() * WORDS.length)]!);
    return `${words.join(' ')}.`.replace(/^./, (c) => c.toUpperCase());
  };
  const section = (title: string, k: number) => `## ${title}\n\n${Array.from({ length: k }, sentence).join(' ')}\n`;
  const details = revision ? `## Details\n\nRevision ${revision} of note ${i}: ${Array.from({ length: 6 }, sentence).join(' ')}\n` : section('Details', 6);
  return `# Note ${i}\n\n${section('Background', 6)}\n${details}`;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-bench-sync-docs-'));
for (let i = 0; i < DOCS; i++) fs.writeFileSync(path.join(dir, `note-${String(i).padStart(5, '0')}.md`), noteText(i));

const lancedb = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-bench-sync-lancedb-'));
// The in-process worker reads the generated corpus, and only that (docs/security.md: TWINFLOW_ALLOW_PATHS).
const config = withAllowedPaths(loadConfig({ ...process.env, LANCEDB_URI: lancedb }), [dir]);
Runtime.install({ logger: new DefaultLogger('WARN') });
await stackUp(stackOptionsFromConfig(config), () => undefined);

const deps = createDeps(config);
const connection = await connectWorker(config);
const taskQueue = `bench-sync-${Date.now()}`;
const worker = await createWorker({ config, connection, taskQueue, activities: createActivities(deps), maxConcurrentActivities: 8, withWorkflows: true });
const client = await TwinflowClient.connect(config);
const collection = `bench_sync_${Date.now()}`;
const input: SyncInput = { collection, sources: [{ type: 'folder', id: 'notes', path: dir }], partSize: 250, concurrency: 2 };

interface Run {
  name: string;
  wallS: number;
  result: SyncResult;
}

async function timed(name: string): Promise<Run> {
  const t0 = performance.now();
  const handle = await client.startSync(input, { workflowId: `bench-${collection}-${name}`, taskQueue });
  const result = await handle.result();
  const run = { name, wallS: (performance.now() - t0) / 1000, result };
  const d = result.documents;
  console.log(`${name.padEnd(10)} ${run.wallS.toFixed(2)} s  +${d.inserted} ~${d.updated} -${d.deleted} =${d.unchanged}  chunks: ${result.chunks.embedded} embedded, ${result.chunks.reused} reused, ${result.chunks.written} written  steps(ms): ${JSON.stringify(result.timings)}`);
  return run;
}

const runs = await worker.runUntil(async () => {
  const full = await timed('full');
  const noChange = await timed('no-change');
  for (let i = 0; i < CHANGED; i++) {
    const n = Math.floor((i * DOCS) / CHANGED);
    fs.writeFileSync(path.join(dir, `note-${String(n).padStart(5, '0')}.md`), noteText(n, 1));
  }
  const changed = await timed(`${CHANGED}-changed`);
  return [full, noChange, changed];
});

const [full, noChange, changed] = runs as [Run, Run, Run];
const report = {
  machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
  command: `node --import tsx bench/sync-bench.ts --docs ${DOCS}`,
  documents: DOCS,
  runs: runs.map((r) => ({ name: r.name, wallS: Number(r.wallS.toFixed(2)), documents: r.result.documents, chunks: r.result.chunks, timingsMs: r.result.timings })),
  noChangeShare: Number((noChange.wallS / full.wallS).toFixed(4)),
  changedShare: Number((changed.wallS / full.wallS).toFixed(4)),
  goals: { noChangeUnder: 0.05, changedUnder: 0.1 },
};
console.log(JSON.stringify(report, null, 2));
if (values.out) fs.writeFileSync(values.out, JSON.stringify(report, null, 2));

await client.close();
await connection.close();
fs.rmSync(dir, { recursive: true, force: true });
fs.rmSync(lancedb, { recursive: true, force: true });
await deps.artifacts.deletePrefix(`state/${collection}/`);
