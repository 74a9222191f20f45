/**
 * How cost grows with the corpus: `sync` over synthetic folders of short documents (default 1k, 10k, 100k; one
 * chunk each, so the real model's time does not hide the orchestration's), each in a fresh collection, through a
 * separate worker process (`workers/cpu.ts`, the one `twinflow worker cpu` runs) with the local MiniLM model. Per size:
 *
 *   - wall time of the full sync and of a no-change re-sync;
 *   - history events and history bytes (payload data and other bytes in the events) of every run of the workflow
 *     tree: the sync, its children and any continued-as-new runs; child workflows; continue-as-new count;
 *   - peak RSS (VmHWM) of the worker process, which runs the workflows and the activities (the model included).
 *
 * Writes bench/results/cost-growth.json and docs/cost-growth.svg (wall time and history events against documents,
 * log-log, with the linear trend through the smallest size).
 *
 *   node --import tsx bench/cost-growth.ts [--sizes 1000,10000,100000] [--out bench/results/cost-growth.json]
 *
 * Uses the stack of your configuration (TEMPORAL_ADDRESS / TWINFLOW_*_PORT, S3_*), on its own task queue.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { createDeps } from '../activities/deps';
import { loadConfig, PROJECT_ROOT } from '../lib/config';
import type { SyncInput, SyncResult } from '../lib/schemas/sync';
import { treeStats } from '../tests/cluster/history';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,10000,100000' },
    out: { type: 'string', default: path.join(PROJECT_ROOT, 'bench', 'results', 'cost-growth.json') },
    svg: { type: 'string', default: path.join(PROJECT_ROOT, 'docs', 'cost-growth.svg') },
    note: { type: 'string', default: '' },
  },
});
const SIZES = values.sizes.split(',').map((s) => Number(s.trim()));
if (SIZES.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error(`--sizes: expected positive integers separated by commas, got ${values.sizes}`);

const WORDS = 'river stone lantern harbour meadow copper falcon orchard glacier ember willow compass thunder velvet quarry saffron beacon tundra marble cobalt'.split(' ');
/** A short note (~40 words, one chunk), different for every i. */
function noteText(i: number): string {
  let seed = i * 7919 + 17;
  const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const words = Array.from({ length: 36 }, () => WORDS[Math.floor(rnd() * WORDS.length)]!);
  // Zero-padded: a document titled "Note 404" is a soft 404 to the cleaner and would be dropped.
  const n = String(i).padStart(6, '0');
  return `# Note ${n}\n\nEntry ${n} of the archive: ${words.join(' ')}.\n`;
}

const config = loadConfig();
// Folder sources are read from under TWINFLOW_ALLOW_PATHS (default <home>/data).
const dataRoot = path.join(config.home, 'data', 'cost-growth');
/** A fresh LanceDB folder per size: the embedding cache lives in the store, and must not serve one size from another. */
const lancedbFor = (n: number) => path.join(config.home, 'cost-growth-lancedb', String(n));

function writeCorpus(n: number): string {
  const dir = path.join(dataRoot, String(n));
  const marker = path.join(dir, '.complete-v2');
  if (fs.existsSync(marker)) return dir;
  fs.rmSync(dir, { recursive: true, force: true });
  for (let i = 0; i < n; i++) {
    const sub = path.join(dir, String(Math.floor(i / 1000)).padStart(3, '0'));
    if (i % 1000 === 0) fs.mkdirSync(sub, { recursive: true });
    fs.writeFileSync(path.join(sub, `note-${i}.md`), noteText(i));
  }
  fs.writeFileSync(marker, '');
  return dir;
}

interface WorkerProc {
  proc: ChildProcess;
  peakRssMiB(): number;
  stop(): Promise<void>;
}

async function startWorker(taskQueue: string, lancedb: string): Promise<WorkerProc> {
  const env = { ...process.env, TWINFLOW_TASK_QUEUE: taskQueue, LANCEDB_URI: lancedb, TWINFLOW_ALLOW_PATHS: dataRoot };
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'workers', 'cpu.ts')], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const onData = (d: Buffer) => (out = (out + d.toString()).slice(-20_000));
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const deadline = Date.now() + 180_000;
  while (!out.includes('twinflow CPU worker polling')) {
    if (proc.exitCode !== null) throw new Error(`the worker exited before it was ready:\n${out}`);
    if (Date.now() > deadline) throw new Error(`the worker was not ready in 180 s:\n${out}`);
    await sleep(100);
  }
  return {
    proc,
    peakRssMiB() {
      const m = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${proc.pid}/status`, 'utf8'));
      return m ? Math.round(Number(m[1]) / 1024) : 0;
    },
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((resolve) => proc.once('exit', resolve));
    },
  };
}

interface SizeResult {
  documents: number;
  full: { wallS: number; embedded: number; written: number; docsPerS: number };
  noChange: { wallS: number; embedded: number; unchanged: number };
  history: { runs: number; children: number; continuedAsNew: number; events: number; bytes: number; eventsPerDoc: number; bytesPerDoc: number; biggestRunEvents: number };
  noChangeHistory: { events: number; bytes: number };
  workerPeakRssMiB: number;
}

async function biggestRun(client: Client, workflowId: string): Promise<number> {
  // The one history that must stay under Temporal's limits (51,200 events / 50 MB per run).
  let max = 0;
  const seen = [workflowId];
  while (seen.length > 0) {
    const id = seen.shift()!;
    const h = await client.workflow.getHandle(id).fetchHistory();
    max = Math.max(max, h.events?.length ?? 0);
    for (const e of h.events ?? []) {
      const c = e.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId;
      if (c) seen.push(c);
    }
  }
  return max;
}

const connection = await Connection.connect({ address: config.temporal.address });
const client = new Client({ connection, namespace: config.temporal.namespace });
const results: SizeResult[] = [];
for (const n of SIZES) {
  const dir = writeCorpus(n);
  const taskQueue = `bench-cost-${n}-${Date.now()}`;
  const collection = `cost_${n}_${Date.now().toString(36)}`;
  const input: SyncInput = { collection, sources: [{ type: 'folder', id: 'notes', path: dir }], partSize: 500, concurrency: 2 };
  fs.rmSync(lancedbFor(n), { recursive: true, force: true });
  const worker = await startWorker(taskQueue, lancedbFor(n));
  try {
    const run = async (name: string) => {
      const t0 = performance.now();
      const workflowId = `cost-growth-${collection}-${name}`;
      const result = (await client.workflow.execute('sync', { taskQueue, workflowId, args: [input] })) as SyncResult;
      return { wallS: (performance.now() - t0) / 1000, result, workflowId };
    };
    const full = await run('full');
    const fullStats = await treeStats(client, { workflowId: full.workflowId });
    const noChange = await run('no-change');
    const ncStats = await treeStats(client, { workflowId: noChange.workflowId });
    const r: SizeResult = {
      documents: n,
      full: { wallS: round(full.wallS), embedded: full.result.chunks.embedded, written: full.result.chunks.written, docsPerS: round(n / full.wallS) },
      noChange: { wallS: round(noChange.wallS), embedded: noChange.result.chunks.embedded, unchanged: noChange.result.documents.unchanged },
      history: {
        runs: fullStats.runs,
        children: fullStats.children,
        continuedAsNew: fullStats.continuedAsNew,
        events: fullStats.events,
        bytes: fullStats.payloadBytes,
        eventsPerDoc: round(fullStats.events / n, 3),
        bytesPerDoc: round(fullStats.payloadBytes / n, 1),
        biggestRunEvents: await biggestRun(client, full.workflowId),
      },
      noChangeHistory: { events: ncStats.events, bytes: ncStats.payloadBytes },
      workerPeakRssMiB: worker.peakRssMiB(),
    };
    results.push(r);
    console.log(JSON.stringify(r));
    // Written after every size, so a run cut short keeps what it measured.
    writeReport();
  } finally {
    await worker.stop();
    await createDeps(config).artifacts.deletePrefix(`state/${collection}/`).catch(() => undefined);
  }
}
await connection.close();

function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function writeReport(): void {
  const load = os.loadavg();
  const report = {
    at: new Date().toISOString(),
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}; load average when written ${load.map((l) => l.toFixed(1)).join('/')}`,
    note: values.note,
    command: `node --import tsx bench/cost-growth.ts --sizes ${SIZES.join(',')}`,
    embedding: `${config.embedding.provider} ${config.embedding.model}`,
    input: { partSize: 500, concurrency: 2, chunksPerDocument: 1 },
    sizes: results,
    notMeasured: SIZES.filter((n) => !results.some((r) => r.documents === n)),
  };
  fs.mkdirSync(path.dirname(values.out), { recursive: true });
  fs.writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
  fs.writeFileSync(values.svg, plot(results));
  console.log(`wrote ${values.out} and ${values.svg}`);
}

/** A log-log SVG: wall time (s) and history events (thousands) against documents, dashed: linear from the first size. */
function plot(rs: SizeResult[]): string {
  const W = 640;
  const H = 360;
  const m = { l: 60, r: 20, t: 30, b: 50 };
  const xs = rs.map((r) => r.documents);
  const series = [
    { name: 'full sync wall time (s)', color: '#1f77b4', ys: rs.map((r) => r.full.wallS) },
    { name: 'no-change re-sync (s)', color: '#2ca02c', ys: rs.map((r) => r.noChange.wallS) },
    { name: 'history events (thousands)', color: '#d62728', ys: rs.map((r) => r.history.events / 1000) },
  ];
  const all = series.flatMap((s) => s.ys).filter((y) => y > 0);
  const [x0, x1] = [Math.log10(Math.min(...xs) / 1.5), Math.log10(Math.max(...xs) * 1.5)];
  const [y0, y1] = [Math.floor(Math.log10(Math.min(...all))), Math.ceil(Math.log10(Math.max(...all) * 1.5))];
  const px = (x: number) => m.l + ((Math.log10(x) - x0) / (x1 - x0)) * (W - m.l - m.r);
  const py = (y: number) => H - m.b - ((Math.log10(Math.max(y, 10 ** y0)) - y0) / (y1 - y0)) * (H - m.t - m.b);
  const parts: string[] = [];
  for (let e = y0; e <= y1; e++) parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${py(10 ** e)}" y2="${py(10 ** e)}" stroke="#ddd"/><text x="${m.l - 6}" y="${py(10 ** e) + 4}" text-anchor="end" font-size="11">${10 ** e}</text>`);
  for (const x of xs) parts.push(`<line x1="${px(x)}" x2="${px(x)}" y1="${m.t}" y2="${H - m.b}" stroke="#eee"/><text x="${px(x)}" y="${H - m.b + 16}" text-anchor="middle" font-size="11">${x.toLocaleString('en')}</text>`);
  series.forEach((s, k) => {
    const pts = xs.map((x, i) => `${px(x).toFixed(1)},${py(s.ys[i]!).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts}"/>`);
    xs.forEach((x, i) => parts.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(s.ys[i]!).toFixed(1)}" r="3" fill="${s.color}"/>`));
    const lin = xs.map((x) => `${px(x).toFixed(1)},${py((s.ys[0]! * x) / xs[0]!).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-dasharray="4 4" stroke-opacity="0.6" points="${lin}"/>`);
    parts.push(`<rect x="${m.l + 10}" y="${m.t + 6 + k * 16}" width="12" height="3" fill="${s.color}"/><text x="${m.l + 28}" y="${m.t + 10 + k * 16}" font-size="11">${s.name}</text>`);
  });
  parts.push(`<text x="${(W + m.l) / 2}" y="${H - 12}" text-anchor="middle" font-size="12">documents (log scale); dashed: linear growth from ${xs[0]!.toLocaleString('en')}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif"><rect width="${W}" height="${H}" fill="white"/><text x="${m.l}" y="18" font-size="13">twinflow sync: cost against corpus size (bench/cost-growth.ts)</text>${parts.join('')}</svg>\n`;
}
