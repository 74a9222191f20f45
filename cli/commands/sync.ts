/** `twinflow sync`: bring a collection up to date with its sources (change data capture), from a config file or flags. */
import type { Command } from 'commander';
import { loadConfig } from '../../lib/config';
import type { SyncInput, SyncProgress, SyncResult } from '../../lib/schemas/sync';
import type { ProgressView } from '../follow';
import { readConfigFile } from '../shared/config-file';
import { collect } from '../shared/options';
import { addRunOutputOptions } from '../shared/run-output-options';
import { addSourceOptions, type SourceFlags } from '../shared/source-options';
import { startAndFollow } from '../shared/start-run';
import { ingestInputFromFlags } from './ingest';

/**
 * A collection's sync configuration from a file: the sync input itself ({ collection, sources, chunking, ... }), or a
 * schedule file whose `sync` holds it, so one file can drive ingest, sync, the schedule and the webhook.
 */
export function loadSyncConfig(file: string): SyncInput {
  const value = readConfigFile(file);
  if (value && typeof value === 'object' && 'sync' in value && !('sources' in value)) return (value as { sync: SyncInput }).sync;
  return value as SyncInput;
}

interface SyncFlags extends SourceFlags {
  config?: string;
  s3: string[];
  workflowId?: string;
  wait: boolean;
  allowMassDeletion?: boolean;
  waitForWorker?: boolean;
  json?: boolean;
}

export function syncInputFromFlags(flags: SyncFlags): SyncInput {
  const allow = flags.allowMassDeletion ? { allowMassDeletion: true } : {};
  if (flags.config) {
    const input = loadSyncConfig(flags.config);
    return { ...input, ...(flags.collection ? { collection: flags.collection } : {}), ...allow };
  }
  const base = ingestInputFromFlags({ ...flags, config: undefined }) as SyncInput;
  const s3 = flags.s3.map((prefix, i) => ({ type: 's3' as const, id: `s3-${i + 1}`, prefix }));
  return { ...base, sources: [...base.sources, ...s3] as SyncInput['sources'], ...allow };
}

/** "3 network_error, 1 bot_challenge" */
function byReason(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([reason, n]) => `${n} ${reason}`)
    .join(', ');
}

export function formatSyncProgress(p: SyncProgress): string {
  const d = p.documents;
  const docs = d ? ` | +${d.inserted} ~${d.updated} -${d.deleted} =${d.unchanged}${d.retained ? ` kept ${d.retained}` : ''}` : '';
  const held = p.deletionsHeld ? ` | DELETIONS HELD (${p.deletionsHeld.documents})` : '';
  return `[${p.phase}]${docs}${held} | parts ${p.parts.loaded}/${p.parts.total} | chunks ${p.chunks.embedded} embedded, ${p.chunks.reused} reused, ${p.chunks.written} written`;
}

/** The bar's reading of a sync: parts loaded of the parts that changed. */
export function syncProgressView(p: SyncProgress): ProgressView {
  return { line: formatSyncProgress(p), value: p.parts.loaded, total: p.parts.total };
}

export function formatSyncResult(r: SyncResult): string {
  const d = r.documents;
  const lines = [
    `collection   ${r.collection} → ${r.physicalCollection}${r.rebuilt ? ' (built and switched over)' : ''}${r.droppedCollection ? `, dropped ${r.droppedCollection}` : ''}`,
    `documents    ${d.inserted} inserted, ${d.updated} updated, ${d.deleted} deleted, ${d.unchanged} unchanged${d.retained ? `, ${d.retained} kept (not confirmed this time, see below)` : ''}`,
    `chunks       ${r.chunks.embedded} embedded, ${r.chunks.reused} reused from cache, ${r.chunks.written} written, ${r.chunks.deleted} deleted`,
  ];
  if (r.deletionsHeld) lines.push(`DELETIONS HELD ${r.deletionsHeld.documents} document(s): ${r.deletionsHeld.reason}`);
  for (const s of r.sources) {
    if (s.status !== 'synced' || s.kept) {
      const kept = s.kept ? `; kept ${byReason(s.kept)}` : '';
      lines.push(`source       ${s.sourceId}: ${s.status}${s.error ? ` (${s.error})` : ''}${kept}`);
    }
    for (const gap of s.listingGaps ?? []) lines.push(`             listing incomplete: ${gap}`);
  }
  lines.push(`state        ${r.state}`, `report       ${r.report}`);
  return lines.join('\n');
}

export function registerSyncCommand(program: Command): void {
  const cmd = addSourceOptions(
    program
      .command('sync')
      .description('bring a collection up to date with its sources: only inserted/updated documents are embedded, removed ones deleted')
      .option('-c, --config <file>', 'JSON or YAML file: the sync input ({ collection, sources, chunking, ... }) or a schedule file'),
  )
    .option('--s3 <prefix>', 'an inbox prefix in the configured bucket (repeatable)', collect, [])
    .option('--workflow-id <id>', 'workflow id (default: sync-<collection>-<timestamp>); one still running with it is followed, not started again')
    .option('--no-wait', 'start and print the workflow id without waiting')
    .option('--allow-mass-deletion', 'let this one run delete more than the deletion guard allows (check a held run first)');
  addRunOutputOptions(cmd).action(async (flags: SyncFlags) => {
    const config = loadConfig();
    const input = syncInputFromFlags(flags); // a bad --config file fails here, before connecting to Temporal
    process.exitCode = await startAndFollow(config, {
      workflowType: 'sync',
      flags,
      start: (client) => client.startSync(input, { workflowId: flags.workflowId }),
      view: syncProgressView,
      format: formatSyncResult,
    });
  });
}
