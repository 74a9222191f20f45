/** `twinflow ingest`: run the feature pipeline from a JSON config file or from flags. */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { TwinflowClient } from '../../client';
import { loadConfig } from '../../lib/config';
import { followRun, type ProgressView, ProgressReporter, watchProgress } from '../follow';
import type { IngestInput, IngestProgress, IngestResult } from '../../lib/schemas/ingest';
import type { SourceConfig } from '../../lib/schemas/sources';
import { InputValidationError } from '../../lib/schemas/validate';

interface IngestFlags {
  config?: string;
  collection?: string;
  url: string[];
  sitemap: string[];
  feed: string[];
  folder: string[];
  git: string[];
  workflowId?: string;
  wait: boolean;
  waitForWorker?: boolean;
  json?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** The flags that name sources, shared by `ingest` and `sync`. */
export function addSourceOptions(command: Command): Command {
  return command
    .option('--collection <name>', 'target collection (default: twinflow)')
    .option('--url <url>', 'a web page (repeatable)', collect, [])
    .option('--sitemap <url>', 'a sitemap.xml or sitemap index (repeatable)', collect, [])
    .option('--feed <url>', 'an RSS or Atom feed (repeatable)', collect, [])
    .option('--folder <path>', 'a local folder of Markdown/text/HTML (repeatable)', collect, [])
    .option('--git <url>', 'a git repository, https:// or file:// (repeatable)', collect, []);
}

/** Builds the workflow input from flags; `--config` (a JSON file with the same shape as the workflow input) wins. */
export function ingestInputFromFlags(flags: IngestFlags): IngestInput {
  if (flags.config) {
    const input = readJsonConfig(flags.config) as IngestInput;
    return flags.collection ? { ...input, collection: flags.collection } : input;
  }
  const sources: SourceConfig[] = [];
  if (flags.url.length || flags.sitemap.length || flags.feed.length) {
    sources.push({ type: 'web', id: 'web', urls: flags.url, sitemaps: flags.sitemap, feeds: flags.feed } as SourceConfig);
  }
  flags.folder.forEach((p, i) => sources.push({ type: 'folder', id: `folder-${i + 1}`, path: path.resolve(p) } as SourceConfig));
  flags.git.forEach((url, i) => sources.push({ type: 'git', id: `git-${i + 1}`, url } as SourceConfig));
  return { collection: flags.collection, sources } as IngestInput;
}

/** A --config JSON file; a file that is missing, unreadable or not JSON is one line naming it (no stack trace). */
export function readJsonConfig(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new InputValidationError(`--config ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a folder, not a file' : e.message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new InputValidationError(`--config ${file}: not valid JSON: ${(err as Error).message}`);
  }
}

export function formatProgress(p: IngestProgress): string {
  const sources = Object.entries(p.sources)
    .map(([id, s]) => `${id}: ${s.phase} ${s.fetched} fetched/${s.cleaned} cleaned`)
    .join(', ');
  return `[${p.phase}] ${sources} | parts ${p.parts.loaded}/${p.parts.total} loaded | ${p.chunks} chunks, ${p.vectors} vectors`;
}

export function formatResult(r: IngestResult): string {
  const reasons = (c: Record<string, number>) =>
    Object.entries(c)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none';
  return [
    `collection   ${r.collection}`,
    `documents    ${r.documents.fetched} fetched, ${r.documents.cleaned} cleaned, ${r.documents.loaded} loaded, ${r.documents.duplicates} duplicates`,
    `skipped      ${reasons(r.documents.skipped)}`,
    `failed       ${reasons(r.documents.failed)}`,
    `dropped      ${reasons(r.documents.dropped)}`,
    `chunks       ${r.chunks}`,
    `vectors      ${r.vectors.written} written (${r.vectors.embedded} embedded, ${r.vectors.reused} from cache)`,
    `report       ${r.artifacts.report}`,
  ].join('\n');
}

/** The bar's reading of an ingest: each part found so far counts three steps (chunked, embedded, loaded). */
export function ingestProgressView(p: IngestProgress): ProgressView {
  return { line: formatProgress(p), value: p.parts.chunked + p.parts.embedded + p.parts.loaded, total: 3 * p.parts.total };
}

/** --wait-for-worker and --json, shared by the commands that start a run. */
export function addRunOutputOptions(command: Command): Command {
  return command
    .option('--wait-for-worker', 'when no worker polls the task queue, keep waiting for one instead of exiting with code 4')
    .option('--json', 'print one JSON document on stdout (the run, its status and result); progress goes to stderr');
}

export function registerIngestCommand(program: Command): void {
  const cmd = addSourceOptions(
    program
      .command('ingest')
      .description('crawl → clean → chunk → embed → load sources into a collection (the feature pipeline)')
      .option('-c, --config <file>', 'JSON file with the workflow input ({ collection, sources, chunking, ... })'),
  )
    .option('--workflow-id <id>', 'workflow id (default: ingest-<collection>-<timestamp>); one still running with it is followed, not started again')
    .option('--no-wait', 'start and print the workflow id without waiting');
  addRunOutputOptions(cmd).action(async (flags: IngestFlags) => {
    const config = loadConfig();
    const input = ingestInputFromFlags(flags); // a bad --config file fails here, before connecting to Temporal
    const client = await TwinflowClient.connect(config);
    try {
      const handle = await client.startIngest(input, { workflowId: flags.workflowId });
      process.exitCode = await followRun({
        client,
        workflowType: 'ingest',
        handle,
        flags,
        needs: client.workerNeeds('ingest', handle.taskQueue),
        progress: async () => ingestProgressView((await client.progress('ingest', handle.workflowId)) as IngestProgress),
        format: formatResult,
      });
    } finally {
      await client.close();
    }
  });
}

/**
 * Prints the line `progress` answers whenever it changes (on stdout), polling every `intervalMs`, until the result
 * arrives. (The commands use followRun, which draws a bar on a terminal; this is the plain form, for the demo.)
 */
export async function watch<T>(progress: () => Promise<string>, result: Promise<T>, intervalMs = 1000): Promise<T> {
  const reporter = new ProgressReporter({ mode: 'lines', lines: process.stdout });
  return watchProgress(async () => ({ line: await progress() }), result, reporter, intervalMs);
}
