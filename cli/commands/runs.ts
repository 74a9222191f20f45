/**
 * `twinflow runs list|show|result|cancel`: find twinflow's runs through Temporal visibility (by pipeline, collection,
 * status and start time; by workflow type too, so runs without search attributes are found), look at one, wait for
 * its result, cancel or terminate it. Every subcommand takes --json (one JSON document on stdout).
 */
import type { Command } from 'commander';
import type { WorkflowExecutionStatusName } from '@temporalio/client';
import {
  describeFailure,
  PIPELINE_NAMES,
  type PipelineName,
  type RunDetails,
  type RunFilter,
  type RunSummary,
  type TwinflowClient,
  workerCommand,
  type WorkerNeed,
} from '../../client';
import type { IngestProgress, IngestResult } from '../../lib/schemas/ingest';
import type { RetrievalEvalProgress, RetrievalEvalResult } from '../../lib/schemas/retrieval-eval';
import type { SyncProgress, SyncResult } from '../../lib/schemas/sync';
import type { TrainProgress, TrainResult } from '../../lib/schemas/train';
import { InputValidationError } from '../../lib/schemas/validate';
import { CliExit, EXIT, failureSentence, followRun, printJson, type ProgressView } from '../follow';
import { withClient } from '../shared/client';
import { collect } from '../shared/options';
import { formatResult, ingestProgressView } from './ingest';
import { formatSyncResult, syncProgressView } from './sync';
import { formatTrainResult, trainProgressView } from './train';

// ---- flags ----

const STATUS_ALIASES: Record<string, WorkflowExecutionStatusName> = {
  running: 'RUNNING',
  completed: 'COMPLETED',
  failed: 'FAILED',
  cancelled: 'CANCELLED',
  canceled: 'CANCELLED',
  terminated: 'TERMINATED',
  timed_out: 'TIMED_OUT',
  timedout: 'TIMED_OUT',
  continued_as_new: 'CONTINUED_AS_NEW',
};
/** Values of the TwinflowStatus search attribute (a run that needs a person). */
export const ATTENTION_STATUSES = ['deletions_held', 'awaiting_review'];

/** --status values: execution statuses (running, failed, ...) and TwinflowStatus values (deletions_held, awaiting_review). */
export function parseStatuses(values: readonly string[]): Pick<RunFilter, 'statuses' | 'attention'> {
  const statuses: WorkflowExecutionStatusName[] = [];
  const attention: string[] = [];
  for (const raw of values.flatMap((v) => v.split(','))) {
    const v = raw.trim().toLowerCase().replace(/-/g, '_');
    if (!v) continue;
    if (STATUS_ALIASES[v]) statuses.push(STATUS_ALIASES[v]);
    else if (ATTENTION_STATUSES.includes(v)) attention.push(v);
    else throw new InputValidationError(`--status: unknown status ${JSON.stringify(raw)} (expected ${[...new Set(Object.values(STATUS_ALIASES))].map((s) => s.toLowerCase().replace(/_/g, '-')).join(', ')}, or ${ATTENTION_STATUSES.join(', ')})`);
  }
  return { ...(statuses.length && { statuses: [...new Set(statuses)] }), ...(attention.length && { attention: [...new Set(attention)] }) };
}

const PIPELINE_ALIASES: Record<string, PipelineName> = { evalretrieval: 'eval', 'eval-retrieval': 'eval', 'retrieval-eval': 'eval', 'stack-check': 'stackCheck', stackcheck: 'stackCheck', 'sync-on-events': 'syncOnEvents', synconevents: 'syncOnEvents' };

export function parsePipelines(values: readonly string[]): PipelineName[] {
  return values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean)
    .map((v) => {
      const p = (PIPELINE_NAMES as string[]).includes(v) ? (v as PipelineName) : PIPELINE_ALIASES[v.toLowerCase()];
      if (!p) throw new InputValidationError(`--pipeline: unknown pipeline ${JSON.stringify(v)} (expected ${PIPELINE_NAMES.join(', ')})`);
      return p;
    });
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** An ISO 8601 date or time, or a duration back from now: 30m, 2h, 7d, 1w. */
export function parseTime(value: string, flag: string, now = Date.now()): Date {
  const rel = /^(\d+(?:\.\d+)?)\s*([smhdw])$/.exec(value.trim());
  if (rel) return new Date(now - Number(rel[1]) * UNITS[rel[2]!]!);
  const d = /^\d{4}-\d{2}-\d{2}/.test(value.trim()) ? new Date(value.trim()) : new Date(Number.NaN);
  if (Number.isNaN(d.getTime())) throw new InputValidationError(`${flag}: ${JSON.stringify(value)} is neither a date (2026-11-01, 2026-11-01T08:00:00Z) nor a duration back from now (30m, 2h, 7d)`);
  return d;
}

export function parseLimit(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > 1000) throw new InputValidationError(`--limit: expected a whole number from 1 to 1000, got ${JSON.stringify(value)}`);
  return n;
}

interface ListFlags {
  pipeline: string[];
  collection?: string;
  status: string[];
  since?: string;
  until?: string;
  limit: string;
  children?: boolean;
  query?: string;
  json?: boolean;
}

export function runFilterFromFlags(flags: ListFlags, now = Date.now()): RunFilter {
  const since = flags.since !== undefined ? parseTime(flags.since, '--since', now) : undefined;
  const until = flags.until !== undefined ? parseTime(flags.until, '--until', now) : undefined;
  if (since && until && since > until) throw new InputValidationError(`--since ${flags.since} is after --until ${flags.until}`);
  const pipelines = parsePipelines(flags.pipeline);
  return {
    ...(pipelines.length && { pipelines }),
    ...(flags.collection !== undefined && { collection: flags.collection }),
    ...parseStatuses(flags.status),
    ...(since && { since }),
    ...(until && { until }),
    ...(flags.children && { children: true }),
    ...(flags.query && { query: flags.query }),
  };
}

// ---- formatting ----

/** 850 → "0.9s", 62_000 → "1m02s", 11_040_000 → "3h04m", 183_600_000 → "2d03h". */
export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (ms < 10_000) return `${(Math.round(Math.max(0, ms) / 100) / 10).toFixed(1)}s`;
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}

const when = (iso: string) => iso.replace(/\.\d{3}Z$/, 'Z');
const statusWord = (s: string) => s.toLowerCase().replace(/_/g, '-');

/** The table of `runs list`: status, pipeline, collection, workflow id, start, duration (running: so far). */
export function formatRunsTable(runs: RunSummary[], now = Date.now()): string {
  if (runs.length === 0) return 'no runs match';
  const rows = runs.map((r) => [
    `${statusWord(r.status)}${r.attention ? ` [${r.attention}]` : ''}`,
    r.pipeline,
    r.collection ?? '-',
    r.workflowId,
    when(r.startTime),
    r.durationMs !== undefined ? formatElapsed(r.durationMs) : `${formatElapsed(now - Date.parse(r.startTime))}…`,
  ]);
  const header = ['STATUS', 'PIPELINE', 'COLLECTION', 'WORKFLOW ID', 'STARTED', 'DURATION'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((cells) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

/** How each pipeline's progress and result read: the formatters of the command that starts it. */
interface RunView {
  progress: (p: unknown) => ProgressView;
  result: (r: unknown) => string;
}

const RUN_VIEWS = new Map<string, RunView>([
  ['ingest', { progress: (p) => ingestProgressView(p as IngestProgress), result: (r) => formatResult(r as IngestResult) }],
  ['sync', { progress: (p) => syncProgressView(p as SyncProgress), result: (r) => formatSyncResult(r as SyncResult) }],
  ['train', { progress: (p) => trainProgressView(p as TrainProgress), result: (r) => formatTrainResult(r as TrainResult) }],
  [
    'evalRetrieval',
    {
      progress: (p) => {
        const e = p as RetrievalEvalProgress;
        return { line: `batches ${e.done}/${e.batches}`, value: e.done, total: e.batches };
      },
      result: (r) => formatRetrievalEvalResult(r as RetrievalEvalResult),
    },
  ],
]);

function formatRetrievalEvalResult(e: RetrievalEvalResult): string {
  const fmt = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(3));
  return [
    `queries      ${e.queries} in ${e.batches} batches`,
    ...e.configs.map((c) => `${c.name.padEnd(40)} ${c.skipped ? `skipped: ${c.skipped}` : `MRR ${fmt(c.mrr)}  nDCG@10 ${fmt(c.ndcg10)}  R@10 ${fmt(c.recall10)}`}`),
    ...e.warnings.map((w) => `warning      ${w}`),
    `report       ${e.markdownUri}`,
    `json         ${e.jsonUri}`,
  ].join('\n');
}

/** The bar's reading of any twinflow run's progress answer (another workflow type's answer: its JSON, no bar). */
function progressView(workflowType: string, p: unknown): ProgressView {
  return RUN_VIEWS.get(workflowType)?.progress(p) ?? { line: JSON.stringify(p) };
}

/** A progress answer of any twinflow run, as one line. */
export function formatAnyProgress(workflowType: string, p: unknown): string {
  return progressView(workflowType, p).line;
}

/** A result of any twinflow run, as the command that started it prints it. */
export function formatAnyResult(workflowType: string, r: unknown): string {
  const view = RUN_VIEWS.get(workflowType);
  return view ? view.result(r) : JSON.stringify(r, null, 2);
}

export interface ShowExtras {
  progress?: string;
  noWorker?: Array<WorkerNeed & { command: string }>;
}

export function formatRunDetails(d: RunDetails, extra: ShowExtras = {}, now = Date.now()): string {
  const lines = [
    `workflow     ${d.workflowId}  (run ${d.runId})`,
    `pipeline     ${d.pipeline}${d.collection ? `   collection ${d.collection}` : ''}   type ${d.workflowType}${d.parentWorkflowId ? `   parent ${d.parentWorkflowId}` : ''}`,
    `status       ${statusWord(d.status)}${d.attention ? `   [${d.attention}]` : ''}`,
  ];
  if (d.summary) lines.push(`summary      ${d.summary}`);
  lines.push(
    `started      ${when(d.startTime)}${d.closeTime ? `   closed ${when(d.closeTime)} after ${formatElapsed(d.durationMs ?? 0)}` : `   running for ${formatElapsed(now - Date.parse(d.startTime))}`}`,
    `task queue   ${d.taskQueue}   history ${d.historyLength} events`,
  );
  for (const m of extra.noWorker ?? []) lines.push(`worker       none polls "${m.taskQueue}" (${m.kind} tasks): start one with \`${m.command}\``);
  for (const a of d.pendingActivities) {
    lines.push(`activity     ${a.activityType}: ${a.state}, attempt ${a.attempt}${a.lastFailure ? `, last failure: ${a.lastFailure}` : ''}`);
  }
  if (extra.progress) lines.push(`progress     ${extra.progress}`);
  if (d.failure) lines.push(`${d.failure.status === 'FAILED' ? 'failure' : statusWord(d.failure.status)}`.padEnd(13) + d.failure.line);
  lines.push(`url          ${d.url}`);
  return lines.join('\n');
}

// ---- commands ----

/** The queues a run needs polled (train: the GPU queue too, the configured one). */
function needsOf(client: TwinflowClient, d: { workflowType: string; taskQueue: string }): WorkerNeed[] {
  return client.workerNeeds(d.workflowType, d.taskQueue);
}

interface RunFlags {
  runId?: string;
  json?: boolean;
}

export function registerRunsCommands(program: Command): void {
  const runs = program.command('runs').description('find and manage runs: list (filters), show, result, cancel');

  runs
    .command('list')
    .description('runs by pipeline, collection, status and start time, newest first')
    .option('-p, --pipeline <name>', `${PIPELINE_NAMES.join(', ')} (repeatable)`, collect, [])
    .option('-c, --collection <name>', 'runs of this collection')
    .option('-s, --status <status>', 'running, completed, failed, cancelled, terminated, timed-out, continued-as-new, deletions_held, or awaiting_review (repeatable)', collect, [])
    .option('--since <time>', 'started at or after: a date (2026-11-01, 2026-11-01T08:00:00Z) or a duration back from now (30m, 2h, 7d)')
    .option('--until <time>', 'started at or before (same forms)')
    .option('-n, --limit <n>', 'at most this many (1-1000)', '20')
    .option('--children', 'include the per-source child runs (ingestSource)')
    .option('--query <visibility query>', "an extra Temporal visibility query, ANDed (e.g. \"TwinflowStatus = 'deletions_held'\")")
    .option('--json', 'print { query, count, runs } as JSON')
    .action(async (flags: ListFlags) => {
      const filter = runFilterFromFlags(flags);
      const limit = parseLimit(flags.limit);
      await withClient(async (client) => {
        const { query, runs: found } = await client.listRuns(filter, { limit });
        const count = found.length < limit ? found.length : await client.countRuns(filter).catch(() => found.length);
        if (flags.json) {
          printJson({ query, count, runs: found, url: client.uiListUrl(query) });
          return;
        }
        console.log(formatRunsTable(found));
        if (found.length > 0) console.log(`\n${found.length}${count > found.length ? ` of about ${count}` : ''} run${found.length === 1 ? '' : 's'}${count > found.length ? ' (more with --limit)' : ''}; in the Web UI: ${client.uiListUrl(query)}`);
      });
    });

  runs
    .command('show <workflowId>')
    .description('one run: status, times, pending activities and their last failure, progress, why it failed, Web UI link')
    .option('--run-id <id>', 'a given run of this workflow id (default: the latest)')
    .option('--json', 'print the run as JSON')
    .action(async (workflowId: string, flags: RunFlags) => {
      await withClient(async (client) => {
        const d = await client.describeRun(workflowId, flags.runId);
        const extra: ShowExtras & { progressRaw?: unknown } = {};
        if (d.status === 'RUNNING') {
          const missing = await client.missingWorkers(needsOf(client, d), 0);
          if (missing.length) extra.noWorker = missing.map((m) => ({ ...m, command: workerCommand(m, client.config) }));
          else {
            const p = await client.progress(d.workflowType, d.workflowId, 3000).catch(() => undefined);
            if (p !== undefined && p !== null) {
              extra.progressRaw = p;
              extra.progress = formatAnyProgress(d.workflowType, p);
            }
          }
        }
        if (flags.json) printJson({ ...d, ...(extra.progressRaw !== undefined && { progress: extra.progressRaw }), ...(extra.noWorker && { noWorker: extra.noWorker }) });
        else console.log(formatRunDetails(d, extra));
      });
    });

  runs
    .command('result <workflowId>')
    .description('wait for a run to end and print its result as the starting command would; exit 1 and one line if it failed')
    .option('--run-id <id>', 'a given run of this workflow id (default: the latest)')
    .option('--json', 'print { workflowId, runId, status, result | failure } as JSON')
    .action(async (workflowId: string, flags: RunFlags) => {
      await withClient(async (client) => {
        const d = await client.describeRun(workflowId, flags.runId);
        const handle = client.client.workflow.getHandle(workflowId, flags.runId ?? d.runId);
        process.exitCode = await followRun<unknown>({
          client,
          workflowType: d.workflowType,
          handle: { workflowId, runId: d.runId, taskQueue: d.taskQueue, result: () => handle.result() },
          flags: { json: flags.json, wait: true },
          quietStart: true,
          infoStream: process.stderr, // stdout is the result
          needs: d.status === 'RUNNING' ? needsOf(client, d) : [],
          noWorker: 'warn',
          progress: async () => progressView(d.workflowType, await client.progress(d.workflowType, workflowId)),
          format: (r) => formatAnyResult(d.workflowType, r),
        });
      });
    });

  runs
    .command('cancel <workflowId>')
    .description('ask a running run to stop (its workflow cleans up: locks released, the trainer stopped); --terminate ends it at once')
    .option('--run-id <id>', 'a given run of this workflow id (default: the latest)')
    .option('--terminate', 'terminate instead: no cleanup code runs (for a run that does not react to cancellation)')
    .option('--reason <text>', 'with --terminate: the reason recorded in history', 'terminated with twinflow runs cancel --terminate')
    .option('--wait', 'wait until the run has ended')
    .option('--json', 'print { workflowId, runId, action, status } as JSON')
    .action(async (workflowId: string, flags: RunFlags & { terminate?: boolean; reason: string; wait?: boolean }) => {
      await withClient(async (client) => {
        const d = await client.describeRun(workflowId, flags.runId);
        const action = flags.terminate ? 'terminate' : 'cancel';
        const base = { workflowId, runId: d.runId, workflowType: d.workflowType, action, url: d.url };
        if (d.status !== 'RUNNING') {
          const ended = d.status === 'CANCELLED' || d.status === 'TERMINATED';
          console.error(`twinflow: ${d.workflowType} ${workflowId} is not running (${statusWord(d.status)}): nothing to ${action}`);
          if (flags.json) printJson({ ...base, status: d.status, changed: false });
          throw new CliExit(ended ? EXIT.OK : EXIT.USAGE);
        }
        const handle = client.client.workflow.getHandle(workflowId, d.runId, { followRuns: false });
        if (flags.terminate) await handle.terminate(flags.reason);
        else await handle.cancel();
        const say = (line: string) => (flags.json ? console.error(line) : console.log(line));
        say(flags.terminate ? `terminated ${d.workflowType} ${workflowId}` : `cancellation requested for ${d.workflowType} ${workflowId}`);
        let status: string = flags.terminate ? 'TERMINATED' : 'RUNNING';
        if (!flags.terminate) {
          const missing = await client.missingWorkers(needsOf(client, d).slice(0, 1), 0);
          if (missing.length) {
            console.error(`twinflow: no worker polls "${missing[0]!.taskQueue}": the run handles the cancellation when one does (\`${workerCommand(missing[0]!, client.config)}\`), or end it now with --terminate`);
            if (flags.wait) {
              if (flags.json) printJson({ ...base, status, changed: true });
              throw new CliExit(EXIT.NO_WORKER);
            }
          }
        }
        if (flags.wait && !flags.terminate) {
          const failure = await handle.result().then(
            () => undefined,
            (err: unknown) => describeFailure(err),
          );
          status = failure?.status ?? 'COMPLETED';
          say(failure ? failureSentence(d.workflowType, workflowId, failure) : `${d.workflowType} ${workflowId} completed before the cancellation took effect`);
        }
        if (flags.json) printJson({ ...base, status, changed: true });
      });
    });
}
