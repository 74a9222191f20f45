/**
 * The demo: the whole story on the local stack, in one command, and the same result every time it runs.
 *
 *  0. brings the stack up (installing it the first time) and runs a CPU worker and a GPU-queue worker in this process;
 *  1. the feature pipeline (crawl → clean → chunk → embed → load) of four sources into the collection "demo": a
 *     website crawled through its sitemap (examples/site, served on 127.0.0.1 on a fixed port), this repository as a
 *     git source, the docs/ folder, and a folder of notes made from examples/reviews in .twinflow/demo/notes;
 *  2. change data capture: edits one note, deletes one and adds one, syncs only what changed, prints the counts, then
 *     restores the notes and syncs again, so the next run starts from the same place;
 *  3. a tiny LoRA fine-tune on CPU (examples/reviews/train-tiny-cpu.json) with its evaluation table and chart;
 *  4. retrieval with the sources of each hit;
 *  5. the Web UI link of every run.
 *
 * Idempotent: every document id derives from a stable location (the site's fixed origin, the repository's and the
 * folders' paths), and step 1 runs as a `sync`, which leaves the collection equal to the sources: a second run embeds
 * nothing, changes nothing, and removes what earlier demo versions left (pages crawled from a random port).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkflowHandle } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createDeps, type Deps } from '../activities/deps';
import { loadTrainerSettings } from '../activities/gpu/settings';
import { TwinflowClient } from '../client';
import { stackOptionsFromConfig, stackUp } from '../infra/stack';
import { type Config, loadConfig, PROJECT_ROOT } from '../lib/config';
import type { SourceConfigInput } from '../lib/schemas/sources';
import { withAllowedNetworks } from '../lib/security/network';
import { withAllowedPaths } from '../lib/security/resources';
import { statePointerKey, type SyncInput, type SyncResult } from '../lib/schemas/sync';
import type { TrainInput, TrainResult } from '../lib/schemas/train';
import type { Hit, VectorStore } from '../lib/vectorstore/types';
import { createRagFromConfig } from '../rag';
import { formatSyncProgress } from './commands/sync';
import { formatTrainProgress, formatTrainResult, readTrainConfig } from './commands/train';
import { createLocalWorkers, runWithWorkers } from './shared/local-workers';
import { watch } from './shared/watch';
import { DEMO_SITE_PORT_VARIABLE, startDemoSite } from './demo-site';
import { ensureExampleModel } from './tiny-model';

export const DEMO_COLLECTION = 'demo';
export const DEMO_TRAIN_CONFIG = path.join(PROJECT_ROOT, 'examples', 'reviews', 'train-tiny-cpu.json');
const REVIEWS_FILE = path.join(PROJECT_ROOT, 'examples', 'reviews', 'companies.jsonl');
/** The training example's records (DEMO_TRAIN_CONFIG's dataset). */
const TRAIN_RECORDS_FILE = path.join(PROJECT_ROOT, 'examples', 'reviews', 'from-notes.jsonl');

/** The demo's sources, by id (ids name documents and state: they must not change between runs). */
export const DEMO_SOURCE_IDS = { web: 'demo-site', git: 'twinflow-repo', docs: 'docs', notes: 'demo-notes' } as const;

/** What the git source reads of this repository: its README and the workflow code (docs/ is the folder source). */
export const DEMO_GIT_INCLUDE = ['README.md', 'trainer/README.md', 'workflows/**/*.ts'];

export const DEMO_QUERIES = [
  'How does the async task framework execute tasks at least once?',
  'How does sync keep a collection equal to its sources?',
  'What does the train workflow do after the fine-tune step?',
  'Which logistics companies in Tampere do employees recommend?',
];

// ---- the notes: a small folder source that the change-data-capture step edits ----

interface Company {
  name: string;
  industry: string;
  description: string;
  review: string;
  overall: number;
  culture: number;
  compensation: number;
  work_life_balance: number;
}

const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

/** The pristine notes: one Markdown file per industry, made from examples/reviews/companies.jsonl. */
export function demoNotes(reviewsFile = REVIEWS_FILE): Map<string, string> {
  const companies = fs
    .readFileSync(reviewsFile, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Company);
  const byIndustry = new Map<string, Company[]>();
  for (const c of companies) byIndustry.set(c.industry, [...(byIndustry.get(c.industry) ?? []), c]);
  const notes = new Map<string, string>();
  for (const [industry, list] of [...byIndustry].sort(([a], [b]) => a.localeCompare(b))) {
    const sections = list.map(
      (c) =>
        `## ${c.name}\n\n${c.description}\n\nWhat an employee wrote: ${c.review.replace(/\n/g, ' ')}\n\n` +
        `Ratings: overall ${c.overall}/5, culture ${c.culture}/5, compensation ${c.compensation}/5, work-life balance ${c.work_life_balance}/5.\n`,
    );
    notes.set(`${slug(industry)}.md`, `# Company notes: ${industry}\n\nWhat employees of ${list.length} ${industry} companies said about working there.\n\n${sections.join('\n')}`);
  }
  return notes;
}

/** The change the CDC step makes: one note edited, one deleted, one added. */
export const NOTES_CHANGE = {
  edited: 'logistics.md',
  deleted: 'energy.md',
  added: 'interview-notes.md',
  editText:
    '\n## Blue Harbor 1, a year later\n\nBlue Harbor 1 stopped the night shifts at its Tampere warehouse. Drivers now plan their routes together ' +
    'every Monday morning, and the new dispatch software cut the overtime in half. Ratings: overall 5/5, work-life balance 4/5.\n',
  addedText:
    '# Interview notes: what candidates ask\n\nCandidates for warehouse, finance and software roles asked the same three questions in ' +
    'almost every interview this spring: how the on-call rotation works and who covers the weekends, whether remote days are ' +
    'allowed after the probation period, and how often salaries are reviewed. Write the answers down before the next round.\n',
  query: 'What do job candidates ask about the on-call rotation?',
};

/** Makes the notes folder equal to the pristine notes (extra files removed). */
export function resetNotes(dir: string, notes: Map<string, string>): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(dir)) if (!notes.has(f)) fs.rmSync(path.join(dir, f), { recursive: true, force: true });
  for (const [name, text] of notes) {
    const file = path.join(dir, name);
    if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text) fs.writeFileSync(file, text);
  }
}

export function changeNotes(dir: string, notes: Map<string, string>): void {
  fs.writeFileSync(path.join(dir, NOTES_CHANGE.edited), notes.get(NOTES_CHANGE.edited)! + NOTES_CHANGE.editText);
  fs.rmSync(path.join(dir, NOTES_CHANGE.deleted));
  fs.writeFileSync(path.join(dir, NOTES_CHANGE.added), NOTES_CHANGE.addedText);
}

// ---- options and report ----

export interface DemoOptions {
  /** Default: loadConfig() (the local stack). */
  config?: Config;
  /** Bring the local stack up first (default true; tests bring their own). */
  stack?: boolean;
  collection?: string;
  /** The demo website's port (default TWINFLOW_DEMO_SITE_PORT or 8765). */
  sitePort?: number;
  /** The git source (default: this repository, as committed) and the docs folder (default: docs/). */
  repoUrl?: string;
  docsDir?: string;
  /** Where the notes live (default <TWINFLOW_HOME>/demo). */
  workDir?: string;
  /** Run the training step (default true; skipped with a message when the trainer's Python is missing). */
  train?: boolean;
  log?: (line: string) => void;
}

export interface DemoRun {
  step: string;
  workflowId: string;
  runId: string;
  url: string;
}

export interface DemoReport {
  collection: string;
  physicalCollection: string;
  /** Points in the collection after the demo. */
  points: number;
  /** Documents of earlier demo runs from another origin of the demo site, found before step 1 (and deleted by it). */
  legacyDocuments: number;
  feature: SyncResult;
  change: SyncResult;
  restore: SyncResult;
  /** The added note was found by search after the change, and no longer after the restore. */
  changeSearch: { foundAfterChange: boolean; foundAfterRestore: boolean };
  train?: TrainResult;
  trainSkipped?: string;
  chartFile?: string;
  hits: Record<string, Hit[]>;
  runs: DemoRun[];
  /** Seconds per step. */
  timings: Record<string, number>;
  elapsedMs: number;
}

// ---- formatting ----

const rel = (p: string) => (p.startsWith(`${PROJECT_ROOT}${path.sep}`) ? path.relative(PROJECT_ROOT, p) : p);
const secs = (ms: number) => Math.round(ms / 100) / 10;
function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

export function formatSyncCounts(r: SyncResult, points?: number): string[] {
  const pad = (v: string | number, n: number) => String(v).padStart(n);
  const lines = [`${'source'.padEnd(16)}${'type'.padEnd(8)}${pad('fetched', 8)}${pad('inserted', 10)}${pad('updated', 9)}${pad('deleted', 9)}${pad('unchanged', 11)}  kept`];
  for (const s of r.sources) {
    if (s.status === 'untouched') continue;
    const kept = s.kept ? Object.entries(s.kept).map(([k, v]) => `${v} ${k}`).join(', ') : '-';
    const status = s.status === 'synced' ? '' : `  (${s.status}${s.error ? `: ${s.error}` : ''})`;
    lines.push(`${s.sourceId.padEnd(16)}${s.sourceType.padEnd(8)}${pad(s.fetched, 8)}${pad(s.inserted, 10)}${pad(s.updated, 9)}${pad(s.deleted, 9)}${pad(s.unchanged, 11)}  ${kept}${status}`);
  }
  const d = r.documents;
  lines.push(
    `documents    ${d.inserted} inserted, ${d.updated} updated, ${d.deleted} deleted, ${d.unchanged} unchanged${d.retained ? `, ${d.retained} kept` : ''}`,
    `chunks       ${r.chunks.embedded} embedded, ${r.chunks.reused} reused from the embedding cache, ${r.chunks.written} written, ${r.chunks.deleted} deleted`,
  );
  if (r.rebuilt) {
    lines.push(`rebuilt      a new index (first run, or the embedding model or chunking changed): built beside the old one, then switched over${r.droppedCollection ? `; dropped ${r.droppedCollection}` : ''}`);
  }
  if (r.deletionsHeld) lines.push(`DELETIONS HELD ${r.deletionsHeld.documents} document(s): ${r.deletionsHeld.reason}`);
  if (points !== undefined) lines.push(`points       ${points} in "${r.collection}" (${r.physicalCollection})`);
  lines.push(`report       ${r.report}`);
  return lines;
}

function formatHit(h: Hit): string[] {
  const p = h.payload;
  const title = p.title ?? path.basename(p.location);
  // The heading path starts with the document's title: print the section only.
  const section = p.headingPath.startsWith(title) ? p.headingPath.slice(title.length).replace(/^\s*>\s*/, '') : p.headingPath;
  return [`${h.score.toFixed(3)}  ${title}${section ? `  › ${section}` : ''}`, `       ${p.sourceType.padEnd(6)} ${p.url ?? p.location}`];
}

// ---- steps ----

/** Distinct documents of the web source whose location is not on the site's current origin (old demo runs). */
export async function legacyWebDocuments(store: VectorStore, collection: string, sourceId: string, baseUrl: string): Promise<number> {
  const physical = (await store.resolveAlias(collection)) ?? ((await store.describe(collection)) ? collection : undefined);
  if (!physical) return 0;
  const legacy = new Set<string>();
  for await (const { payload } of store.scroll(physical, { must: [{ field: 'sourceId', eq: sourceId }] })) {
    if (!payload.location.startsWith(`${baseUrl}/`)) legacy.add(payload.docId);
  }
  return legacy.size;
}

/** The local folder of a file:// git URL (undefined for a remote one). */
function repoPathOf(url: string): string | undefined {
  return url.startsWith('file:') ? fileURLToPath(url) : undefined;
}

export async function runDemo(opts: DemoOptions = {}): Promise<DemoReport> {
  const started = Date.now();
  const workDir = opts.workDir ?? path.join((opts.config ?? loadConfig()).home, 'demo');
  // The demo's in-process workers read exactly what the demo ingests and trains on, so they allow exactly that
  // (TWINFLOW_ALLOW_PATHS adds to it; nothing else of this machine is readable from workflow input).
  let config = withAllowedPaths(opts.config ?? loadConfig(), [
    opts.docsDir ?? path.join(PROJECT_ROOT, 'docs'),
    workDir,
    repoPathOf(opts.repoUrl ?? `file://${PROJECT_ROOT}`),
    REVIEWS_FILE,
    TRAIN_RECORDS_FILE,
  ].filter((p): p is string => p !== undefined));
  const log = opts.log ?? ((l: string) => console.log(l));
  const sub = (l: string) => log(`    ${l}`);
  const collection = opts.collection ?? DEMO_COLLECTION;
  const notesDir = path.join(workDir, 'notes');
  const timings: Record<string, number> = {};
  const runs: DemoRun[] = [];

  log('twinflow demo: the feature pipeline, change data capture, a training run and retrieval, on the local stack.');
  log('Running it again gives the same collection: it embeds nothing new and changes nothing.');

  // The site first: a port in use fails at once, before anything starts.
  const site = await startDemoSite({ port: opts.sitePort });
  // Workers refuse loopback addresses for workflow input by default; the demo's own workers allow the one address
  // of the site it serves itself (lib/security/network.ts).
  const siteAddress = new URL(site.baseUrl).hostname;
  config = withAllowedNetworks(config, [siteAddress]);
  try {
    if (opts.stack ?? true) {
      const t = Date.now();
      log('==> local stack');
      await stackUp(stackOptionsFromConfig(config), sub);
      timings.stack = secs(Date.now() - t);
    }
    log(`==> demo website: ${site.baseUrl} (${site.pages.length} pages, sitemap, robots.txt; a fixed port, ${DEMO_SITE_PORT_VARIABLE} to change it)`);
    sub(`the demo's workers allow this loopback address by their own configuration (TWINFLOW_ALLOW_NETWORKS=${siteAddress}); workers refuse loopback and private addresses in workflow input unless allowed`);

    try {
      Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } }, shutdownSignals: ['SIGINT', 'SIGTERM'] });
    } catch {
      // Installed already (a test harness): keep its settings.
    }
    const deps = createDeps(config);
    const trainerPython = loadTrainerSettings(config).python;
    let trainSkipped: string | undefined;
    if (opts.train === false) trainSkipped = 'skipped (--no-train)';
    else if (!fs.existsSync(trainerPython)) {
      trainSkipped = `skipped: the trainer's Python environment is missing (${rel(trainerPython)}); run \`make python\` (\`make demo\` does), then the demo again`;
    }

    const cpuConnection = await NativeConnection.connect({ address: config.temporal.address, tls: config.temporal.tls ? {} : undefined, apiKey: config.temporal.apiKey });
    const gpuConnection = trainSkipped ? undefined : await NativeConnection.connect({ address: config.temporal.address, tls: config.temporal.tls ? {} : undefined, apiKey: config.temporal.apiKey });
    const client = await TwinflowClient.connect(config);
    try {
      const workers = await createLocalWorkers(config, deps, { cpu: cpuConnection, gpu: gpuConnection });
      const main = () => demoSteps({ config, deps, client, site, collection, notesDir, opts, log, sub, timings, runs, trainSkipped });
      const report = await runWithWorkers(workers, main);
      const elapsedMs = Date.now() - started;
      log('==> 5/5 every run in the Temporal Web UI');
      for (const r of runs) sub(`${r.step.padEnd(22)} ${r.url}`);
      sub(`MinIO console (artifacts, datasets, reports): http://127.0.0.1:${config.stack.minioConsolePort} (minioadmin / minioadmin)`);
      sub(`all workflows: http://127.0.0.1:${config.stack.temporalUiPort}/namespaces/${config.temporal.namespace}/workflows`);
      log('');
      log(
        `Done in ${duration(elapsedMs)} (${Object.entries(timings)
          .map(([k, v]) => `${k} ${duration(v * 1000)}`)
          .join(', ')}). "${collection}" holds ${report.points} points; run \`make demo\` again: same count, nothing embedded (unless the sources changed).`,
      );
      log('Stop the stack with: make down');
      return { ...report, runs, timings, elapsedMs };
    } finally {
      await client.close();
      await cpuConnection.close();
      await gpuConnection?.close();
    }
  } finally {
    await site.close();
  }
}

interface StepContext {
  config: Config;
  deps: Deps;
  client: TwinflowClient;
  site: { baseUrl: string; pages: string[] };
  collection: string;
  notesDir: string;
  opts: DemoOptions;
  log: (l: string) => void;
  sub: (l: string) => void;
  timings: Record<string, number>;
  runs: DemoRun[];
  trainSkipped?: string;
}

/** Records a started run (its id, first run id and Web UI link) and prints the link. */
function recordRun(ctx: StepContext, step: string, handle: WorkflowHandle): void {
  // client.start* return the handle of the run they started, which carries its first run id.
  const runId = (handle as WorkflowHandle & { firstExecutionRunId?: string }).firstExecutionRunId ?? '';
  const url = ctx.client.uiUrl(handle.workflowId, runId || undefined);
  ctx.runs.push({ step, workflowId: handle.workflowId, runId, url });
  ctx.sub(`workflow: ${url}`);
}

async function demoSteps(ctx: StepContext): Promise<Omit<DemoReport, 'elapsedMs' | 'timings' | 'runs'>> {
  const { config, deps, client, site, collection, notesDir, opts, log, sub, timings } = ctx;
  const store = await deps.vectorStore();
  const notes = demoNotes();
  resetNotes(notesDir, notes);

  const repoUrl = opts.repoUrl ?? `file://${PROJECT_ROOT}`;
  const docsDir = opts.docsDir ?? path.join(PROJECT_ROOT, 'docs');
  const sources: SourceConfigInput[] = [
    { type: 'web', id: DEMO_SOURCE_IDS.web, sitemaps: [`${site.baseUrl}/sitemap.xml`] },
    // Not docs/: that is the folder source, and two sources with the same documents would only load duplicates.
    { type: 'git', id: DEMO_SOURCE_IDS.git, url: repoUrl, include: DEMO_GIT_INCLUDE },
    { type: 'folder', id: DEMO_SOURCE_IDS.docs, path: docsDir },
    { type: 'folder', id: DEMO_SOURCE_IDS.notes, path: notesDir },
  ];
  const sourceIds = sources.map((s) => s.id);
  const syncInput = (extra: Partial<SyncInput> = {}): SyncInput => ({ collection, sources: sources as SyncInput['sources'], ...extra });

  /** Starts a sync, prints its link and progress (with each source's crawl), returns its result. */
  const runSync = async (step: string, input: SyncInput): Promise<SyncResult> => {
    const handle = await client.startSync(input, { workflowId: `demo-${slug(step)}-${Date.now()}` });
    recordRun(ctx, step, handle);
    const crawled = input.only ? input.only.map((o) => o.sourceId) : sourceIds;
    // A child's query can fail while it is between tasks: show its last answer then.
    const lastSeen = new Map<string, string>();
    const progress = async () => {
      const p = await client.syncProgress(handle.workflowId);
      if (p.phase !== 'crawl') return formatSyncProgress(p);
      const perSource = await Promise.all(
        crawled.map(async (id) => {
          try {
            const s = await client.client.workflow.getHandle(`${handle.workflowId}--source-${id}`).query<{ phase: string; fetched: number; cleaned: number }>('progress');
            lastSeen.set(id, `${id}: ${s.phase} ${s.fetched} fetched/${s.cleaned} cleaned`);
          } catch {
            // not started yet, or between tasks
          }
          return lastSeen.get(id) ?? `${id}: starting`;
        }),
      );
      return `[crawl] ${perSource.join(', ')}`;
    };
    return watch(progress, handle.result(), 1000, sub);
  };

  // ---- 1. the feature pipeline ----
  let t = Date.now();
  log(`==> 1/5 feature pipeline: crawl → clean → chunk → embed → load, ${sources.length} sources into the collection "${collection}"`);
  sub(`${DEMO_SOURCE_IDS.web.padEnd(14)} web     ${site.baseUrl}/sitemap.xml`);
  sub(`${DEMO_SOURCE_IDS.git.padEnd(14)} git     ${repoUrl} (${DEMO_GIT_INCLUDE.join(', ')}, as committed)`);
  sub(`${DEMO_SOURCE_IDS.docs.padEnd(14)} folder  ${rel(docsDir)}/`);
  sub(`${DEMO_SOURCE_IDS.notes.padEnd(14)} folder  ${rel(notesDir)}/ (${notes.size} notes made from examples/reviews; reset at every run)`);
  sub('It runs as `sync`, which makes the collection equal to its sources: unchanged documents cost nothing, and');
  sub('documents that are gone are deleted. The first run embeds everything; later runs find every chunk in the cache.');
  // What earlier demo versions left: pages crawled from a random port (every run added a copy of each page), and a
  // collection built by `ingest`, which never deletes. This sync removes them; they can be more than the deletion
  // guard lets one sync delete, so that one sync is allowed to (the demo owns its collection and its sources).
  const legacy = await legacyWebDocuments(store, collection, DEMO_SOURCE_IDS.web, site.baseUrl);
  const live = await store.resolveAlias(collection);
  const unsynced = live !== undefined && !(await deps.artifacts.exists(statePointerKey(collection))) && (await store.count(live)) > 0;
  if (legacy > 0) sub(`Found ${legacy} page(s) from earlier demo runs on other ports (the site used to get a new random port each run).`);
  if (unsynced) sub(`"${collection}" was built by an earlier demo version (with \`ingest\`, which never deletes).`);
  if (legacy > 0 || unsynced) sub('This sync deletes what the sources no longer have, past the deletion guard for this one run (allowMassDeletion).');
  let feature = await runSync('feature pipeline', syncInput(legacy > 0 || unsynced ? { allowMassDeletion: true } : {}));
  let points = await store.count(feature.physicalCollection);
  for (const l of formatSyncCounts(feature, points)) sub(l);
  if (feature.status === 'deletions_held') {
    // The guard did its job: a sync that would delete much of a source deletes nothing until someone checks. Here the
    // deletions are what the demo's own sources no longer have (an earlier demo version read other files), so the
    // demo, which owns this collection, confirms them with one more sync, as a user would after checking.
    sub(`The deletion guard held ${feature.deletionsHeld?.documents ?? 0} deletion(s): documents an earlier demo version loaded that its sources`);
    sub('no longer have. The demo owns this collection, so it confirms them: one more sync, with allowMassDeletion:');
    feature = await runSync('feature pipeline (confirm deletions)', syncInput({ allowMassDeletion: true }));
    points = await store.count(feature.physicalCollection);
    for (const l of formatSyncCounts(feature, points)) sub(l);
  }
  timings['feature pipeline'] = secs(Date.now() - t);

  const { rag, close: closeRag } = await createRagFromConfig(config, { store, embedder: await deps.cachedEmbedder() });
  const findsAdded = async () => {
    const { hits } = await rag.search({ query: NOTES_CHANGE.query, collections: [collection], limit: 3 });
    return { hits, found: hits.some((h) => h.payload.location.endsWith(`/${NOTES_CHANGE.added}`)) };
  };

  // ---- 2. change data capture ----
  t = Date.now();
  log('==> 2/5 change data capture: edit, delete and add a note, then sync: only what changed is embedded');
  changeNotes(notesDir, notes);
  sub(`edited   ${rel(path.join(notesDir, NOTES_CHANGE.edited))} (a section added)`);
  sub(`deleted  ${rel(path.join(notesDir, NOTES_CHANGE.deleted))}`);
  sub(`added    ${rel(path.join(notesDir, NOTES_CHANGE.added))}`);
  sub(`sync of the source "${DEMO_SOURCE_IDS.notes}" only (\`only\`, as a push sync is), the other sources untouched:`);
  const change = await runSync('cdc: change', syncInput({ only: [{ sourceId: DEMO_SOURCE_IDS.notes }] }));
  for (const l of formatSyncCounts(change)) sub(l);
  if (change.chunks.embedded === 0) sub('(0 embedded: the demo makes the same change every run, so the cache has these chunks from an earlier run)');
  const afterChange = await findsAdded();
  sub(`search "${NOTES_CHANGE.query}"`);
  for (const l of afterChange.hits.slice(0, 1).flatMap(formatHit)) sub(`  ${l}`);
  sub(afterChange.found ? '  the added note is searchable' : '  (the added note is not among the hits)');

  resetNotes(notesDir, notes);
  sub('restored the notes (the next run starts from the same place) and synced again:');
  const restore = await runSync('cdc: restore', syncInput({ only: [{ sourceId: DEMO_SOURCE_IDS.notes }] }));
  for (const l of formatSyncCounts(restore)) sub(l);
  const afterRestore = await findsAdded();
  sub(afterRestore.found ? 'the added note is still returned (unexpected)' : 'the added note is gone from search again');
  points = await store.count(restore.physicalCollection);
  timings['change data capture'] = secs(Date.now() - t);

  // ---- 3. training ----
  t = Date.now();
  log('==> 3/5 training pipeline: dataset → LoRA fine-tune (GPU queue, on CPU here) → evaluate → publish (dry run)');
  let train: TrainResult | undefined;
  let chartFile: string | undefined;
  if (ctx.trainSkipped) sub(ctx.trainSkipped);
  else {
    const input: TrainInput = readTrainConfig(DEMO_TRAIN_CONFIG);
    sub(`${rel(DEMO_TRAIN_CONFIG)}: a tiny Llama built for this example, ${input.training?.maxSteps ?? '?'} LoRA steps on CPU (2-3 minutes); published (dry run) only if it beats both no-LLM floors`);
    const baseModel = input.model.baseModel;
    await ensureExampleModel(baseModel, loadTrainerSettings(config).python, sub);
    if (config.llm.baseUrl !== undefined || config.llm.apiKey !== undefined) {
      input.evaluation = { ...input.evaluation, baselines: [{ model: config.llm.model }] };
      sub(`baseline: ${config.llm.model}${config.llm.baseUrl ? ` at ${config.llm.baseUrl}` : ''}`);
    } else {
      sub(`no baseline row: set LLM_BASE_URL / LLM_API_KEY to compare with ${config.llm.model} on the same test split`);
    }
    const handle = await client.startTrain(input, { workflowId: `demo-train-${Date.now()}` });
    recordRun(ctx, 'training', handle);
    train = await watch(async () => formatTrainProgress(await client.trainProgress(handle.workflowId)), handle.result(), 2000, sub);
    for (const l of formatTrainResult(train).split('\n').slice(1)) sub(l);
    chartFile = path.join(path.dirname(notesDir), 'train-chart.svg');
    fs.writeFileSync(chartFile, await deps.artifacts.getBytes(train.report.chartUri));
    sub(`chart     saved as ${rel(chartFile)} (open it in a browser)`);
  }
  timings.training = secs(Date.now() - t);

  // ---- 4. retrieval ----
  t = Date.now();
  log('==> 4/5 retrieval: hybrid search (BM25 + vector, RRF) over the collection, with the source of each hit');
  const hits: Record<string, Hit[]> = {};
  for (const query of DEMO_QUERIES) {
    const res = await rag.search({ query, collections: [collection], limit: 3 });
    hits[query] = res.hits;
    sub(`"${query}"`);
    for (const h of res.hits) for (const l of formatHit(h)) sub(`  ${l}`);
  }
  const answer = await rag.ask({ question: DEMO_QUERIES[0]!, collections: [collection] });
  sub(`ask: ${answer.generated ? answer.answer : `${answer.message} (${answer.sources.length} sources)`}`);
  await closeRag();
  timings.retrieval = secs(Date.now() - t);

  return {
    collection,
    physicalCollection: restore.physicalCollection,
    points,
    legacyDocuments: legacy,
    feature,
    change,
    restore,
    changeSearch: { foundAfterChange: afterChange.found, foundAfterRestore: afterRestore.found },
    ...(train ? { train } : {}),
    ...(ctx.trainSkipped ? { trainSkipped: ctx.trainSkipped } : {}),
    ...(chartFile ? { chartFile } : {}),
    hits,
  };
}
