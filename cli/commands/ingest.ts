/** `twinflow ingest`: run the feature pipeline from a JSON config file or from flags. */
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../lib/config';
import type { ProgressView } from '../follow';
import type { IngestInput, IngestProgress, IngestResult } from '../../lib/schemas/ingest';
import type { SourceConfig } from '../../lib/schemas/sources';
import { readJsonConfig } from '../shared/config-file';
import { addRunOutputOptions } from '../shared/run-output-options';
import { addSourceOptions, type SourceFlags } from '../shared/source-options';
import { startAndFollow } from '../shared/start-run';

interface IngestFlags extends SourceFlags {
  config?: string;
  workflowId?: string;
  wait: boolean;
  waitForWorker?: boolean;
  json?: boolean;
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
    process.exitCode = await startAndFollow(config, {
      workflowType: 'ingest',
      flags,
      start: (client) => client.startIngest(input, { workflowId: flags.workflowId }),
      view: ingestProgressView,
      format: formatResult,
    });
  });
}
