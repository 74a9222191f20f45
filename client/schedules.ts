/**
 * The nightly sync as a Temporal Schedule, managed from a config object (the same from the CLI and from other
 * services): apply (create or update, idempotently), status (spec, next runs, recent results), trigger now, pause and
 * unpause, backfill a past range, delete.
 *
 * Policies: overlapping runs are skipped (a sync still running when the next is due lets it go), each run has an
 * execution timeout shorter than the schedule's shortest interval, missed runs are caught up within a window, and a
 * backfill buffers its runs so they run one after the other.
 */
import { type Client, ScheduleNotFoundError, ScheduleOverlapPolicy, type ScheduleOptionsStartWorkflowAction } from '@temporalio/client';
import { hashJson } from '../lib/hash';
import { CronError, shortestInterval } from '../lib/schedules/cron';
import {
  defaultScheduleId,
  durationToMs,
  type SyncResult,
  type SyncScheduleConfig,
  type SyncScheduleParams,
  syncScheduleSchema,
} from '../lib/schemas/sync';
import { InputValidationError, parseInput } from '../lib/schemas/validate';
import type { sync } from '../workflows/sync';

const HOUR = 3_600_000;
const MEMO_KEY = 'twinflowSchedule';

/** What the schedule was applied from, kept in the action's memo (the server keeps cron only as calendars). */
interface ScheduleMeta {
  hash: string;
  cron: string;
  timeZone: string;
  jitter: string;
  catchupWindow: string;
  executionTimeoutMs: number;
  collection: string;
}

export interface ResolvedSchedule {
  id: string;
  params: SyncScheduleParams;
  executionTimeoutMs: number;
  shortestIntervalMs: number;
}

/** 77760000 → "21h36m", 86400000 → "1d", 1500 → "1s500ms". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const units: Array<[string, number]> = [['d', 86_400_000], ['h', HOUR], ['m', 60_000], ['s', 1000], ['ms', 1]];
  let rest = Math.round(ms);
  let out = '';
  for (const [unit, size] of units) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}

/** Validates a schedule config; the execution timeout defaults to 90% of the shortest interval, at most 23 hours. */
export function resolveSchedule(config: SyncScheduleConfig): ResolvedSchedule {
  const params = parseInput(syncScheduleSchema, config, 'schedule');
  try {
    new Intl.DateTimeFormat('en', { timeZone: params.timeZone });
  } catch {
    throw new InputValidationError(`invalid schedule input: timeZone: ${JSON.stringify(params.timeZone)} is not an IANA time zone (e.g. Europe/Paris)`);
  }
  // Measured in the schedule's own time zone: a daily run across a daylight-saving change is 23 hours apart.
  let interval: number;
  try {
    interval = shortestInterval(params.cron, { timeZone: params.timeZone });
  } catch (err) {
    if (err instanceof CronError) throw new InputValidationError(`invalid schedule input: cron: ${err.message}`);
    throw err;
  }
  const timeout = params.executionTimeout ? durationToMs(params.executionTimeout) : Math.min(23 * HOUR, Math.floor((interval * 0.9) / 1000) * 1000);
  if (timeout >= interval) {
    throw new InputValidationError(
      `invalid schedule input: executionTimeout: ${params.executionTimeout} is not shorter than the shortest interval of "${params.cron}" (${formatDuration(interval)}); a run must end before the next one is due`,
    );
  }
  if (durationToMs(params.jitter) >= interval) {
    throw new InputValidationError(`invalid schedule input: jitter: ${params.jitter} is not shorter than the shortest interval of "${params.cron}" (${formatDuration(interval)})`);
  }
  return { id: params.id ?? defaultScheduleId(params.sync.collection), params, executionTimeoutMs: timeout, shortestIntervalMs: interval };
}

function desired(r: ResolvedSchedule, taskQueue: string) {
  const p = r.params;
  const spec = { cronExpressions: [p.cron], timezone: p.timeZone, jitter: p.jitter };
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: p.catchupWindow, pauseOnFailure: false };
  const workflow = { workflowType: 'sync', args: [p.sync], taskQueue: p.taskQueue ?? taskQueue, workflowId: `sync-${p.sync.collection}-scheduled`, workflowExecutionTimeout: r.executionTimeoutMs };
  const meta: ScheduleMeta = {
    hash: hashJson({ spec, policies, workflow }),
    cron: p.cron,
    timeZone: p.timeZone,
    jitter: p.jitter,
    catchupWindow: p.catchupWindow,
    executionTimeoutMs: r.executionTimeoutMs,
    collection: p.sync.collection,
  };
  const action: ScheduleOptionsStartWorkflowAction<typeof sync> = {
    type: 'startWorkflow',
    workflowType: 'sync',
    args: [p.sync],
    taskQueue: workflow.taskQueue,
    workflowId: workflow.workflowId,
    workflowExecutionTimeout: r.executionTimeoutMs,
    memo: { [MEMO_KEY]: meta },
  };
  return { spec, policies, action, meta };
}

export type ApplyOutcome = 'created' | 'updated' | 'unchanged';

export interface ApplyResult {
  id: string;
  outcome: ApplyOutcome;
  /** Set when apply paused or unpaused the schedule. */
  paused?: boolean;
  executionTimeout: string;
}

/** Creates the schedule, or updates it when the config changed; applying the same config again changes nothing. */
export async function applySyncSchedule(client: Client, config: SyncScheduleConfig, opts: { taskQueue: string }): Promise<ApplyResult> {
  const r = resolveSchedule(config);
  const want = desired(r, opts.taskQueue);
  const handle = client.schedule.getHandle(r.id);
  const existing = await handle.describe().catch((err: unknown) => {
    if (err instanceof ScheduleNotFoundError) return undefined;
    throw err;
  });
  const executionTimeout = formatDuration(r.executionTimeoutMs);
  if (!existing) {
    await client.schedule.create({
      scheduleId: r.id,
      spec: want.spec,
      action: want.action,
      policies: want.policies,
      state: { paused: r.params.paused ?? false, note: r.params.note },
    });
    return { id: r.id, outcome: 'created', executionTimeout, ...(r.params.paused ? { paused: true } : {}) };
  }
  const before = (existing.action.memo?.[MEMO_KEY] as ScheduleMeta | undefined)?.hash;
  let outcome: ApplyOutcome = 'unchanged';
  if (before !== want.meta.hash) {
    await handle.update((prev) => ({
      spec: want.spec,
      action: want.action,
      policies: want.policies,
      state: { paused: prev.state.paused, note: r.params.note ?? prev.state.note },
    }));
    outcome = 'updated';
  }
  let paused: boolean | undefined;
  if (r.params.paused !== undefined && r.params.paused !== existing.state.paused) {
    if (r.params.paused) await handle.pause(r.params.note ?? 'paused by twinflow schedule apply');
    else await handle.unpause(r.params.note ?? 'unpaused by twinflow schedule apply');
    paused = r.params.paused;
  }
  return { id: r.id, outcome, executionTimeout, ...(paused !== undefined ? { paused } : {}) };
}

export interface RecentRun {
  scheduledAt: Date;
  takenAt: Date;
  workflowId: string;
  runId: string;
  status: string;
  /** For completed runs. */
  result?: Pick<SyncResult, 'documents' | 'chunks' | 'failedSources'>;
  error?: string;
}

export interface ScheduleStatus {
  id: string;
  cron?: string;
  timeZone?: string;
  jitter?: string;
  catchupWindow: string;
  executionTimeout?: string;
  overlap: string;
  paused: boolean;
  note?: string;
  nextRuns: Date[];
  recent: RecentRun[];
  running: Array<{ workflowId: string; runId: string }>;
  actionsTaken: number;
  skippedOverlap: number;
  missedCatchupWindow: number;
}

/** The schedule's spec, its next runs and the outcome of its recent runs (latest last). */
export async function syncScheduleStatus(client: Client, id: string, opts: { recent?: number } = {}): Promise<ScheduleStatus> {
  const d = await client.schedule.getHandle(id).describe();
  const meta = d.action.type === 'startWorkflow' ? (d.action.memo?.[MEMO_KEY] as ScheduleMeta | undefined) : undefined;
  const recent: RecentRun[] = [];
  for (const a of d.info.recentActions.slice(-(opts.recent ?? 5))) {
    const h = client.workflow.getHandle(a.action.workflow.workflowId, a.action.workflow.firstExecutionRunId);
    const run: RecentRun = { scheduledAt: a.scheduledAt, takenAt: a.takenAt, workflowId: a.action.workflow.workflowId, runId: a.action.workflow.firstExecutionRunId, status: 'UNKNOWN' };
    try {
      run.status = (await h.describe()).status.name;
      if (run.status === 'COMPLETED') {
        const r = (await h.result()) as SyncResult;
        run.result = { documents: r.documents, chunks: r.chunks, failedSources: r.failedSources };
      } else if (run.status === 'FAILED') {
        await h.result().catch((err: unknown) => {
          const cause = (err as { cause?: { message?: string } }).cause;
          run.error = cause?.message ?? (err as Error).message;
        });
      }
    } catch (err) {
      run.error = (err as Error).message; // e.g. past retention
    }
    recent.push(run);
  }
  return {
    id,
    cron: meta?.cron,
    timeZone: meta?.timeZone ?? d.spec.timezone,
    jitter: meta?.jitter,
    catchupWindow: formatDuration(d.policies.catchupWindow),
    executionTimeout: meta ? formatDuration(meta.executionTimeoutMs) : undefined,
    overlap: d.policies.overlap ?? 'SKIP',
    paused: d.state.paused,
    note: d.state.note,
    nextRuns: d.info.nextActionTimes,
    recent,
    running: d.info.runningActions.map((a) => ({ workflowId: a.workflow.workflowId, runId: a.workflow.firstExecutionRunId })),
    actionsTaken: d.info.numActionsTaken,
    skippedOverlap: d.info.numActionsSkippedOverlap,
    missedCatchupWindow: d.info.numActionsMissedCatchupWindow,
  };
}

/** Starts a run now. Another sync of the collection still running is waited for (the sync lock), not overlapped. */
export async function triggerSyncSchedule(client: Client, id: string): Promise<void> {
  await client.schedule.getHandle(id).trigger(ScheduleOverlapPolicy.ALLOW_ALL);
}

export async function pauseSyncSchedule(client: Client, id: string, note?: string): Promise<void> {
  await client.schedule.getHandle(id).pause(note ?? 'paused by twinflow');
}

export async function unpauseSyncSchedule(client: Client, id: string, note?: string): Promise<void> {
  await client.schedule.getHandle(id).unpause(note ?? 'unpaused by twinflow');
}

/** Runs every firing time of [start, end) now, one after the other (buffered, never overlapping). */
export async function backfillSyncSchedule(client: Client, id: string, start: Date, end: Date): Promise<void> {
  if (!(start < end)) throw new InputValidationError(`invalid backfill: start ${start.toISOString()} must be before end ${end.toISOString()}`);
  await client.schedule.getHandle(id).backfill({ start, end, overlap: ScheduleOverlapPolicy.BUFFER_ALL });
}

export async function deleteSyncSchedule(client: Client, id: string): Promise<void> {
  await client.schedule.getHandle(id).delete();
}
