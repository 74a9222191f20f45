/** `twinflow schedule ...`: the nightly sync as a Temporal Schedule (apply, status, trigger, pause, unpause, backfill, delete). */
import type { Command } from 'commander';
import {
  applySyncSchedule,
  backfillSyncSchedule,
  deleteSyncSchedule,
  pauseSyncSchedule,
  type ScheduleStatus,
  syncScheduleStatus,
  triggerSyncSchedule,
  unpauseSyncSchedule,
} from '../../client';
import { type Config, loadConfig } from '../../lib/config';
import { defaultScheduleId, type SyncScheduleConfig } from '../../lib/schemas/sync';
import { InputValidationError } from '../../lib/schemas/validate';
import { loadSyncConfig } from './sync';
import { printJson } from '../follow';
import { withClient } from '../shared/client';
import { readConfigFile } from '../shared/config-file';

interface ApplyFlags {
  config?: string;
  syncConfig?: string;
  id?: string;
  cron?: string;
  timezone?: string;
  catchupWindow?: string;
  jitter?: string;
  executionTimeout?: string;
  paused?: boolean;
  note?: string;
}

/**
 * The schedule config: a schedule file (`{ cron, timeZone, ..., sync: {...} }`), or a sync file plus flags; flags win.
 * Cron and time zone default to TWINFLOW_SCHEDULE_CRON / TWINFLOW_SCHEDULE_TIMEZONE (nightly at 02:00 UTC).
 */
export function scheduleConfigFromFlags(flags: ApplyFlags, config: Config): SyncScheduleConfig {
  let base: Partial<SyncScheduleConfig> = {};
  if (flags.config) {
    const value = readConfigFile(flags.config) as Record<string, unknown>;
    base = 'sync' in value ? (value as Partial<SyncScheduleConfig>) : { sync: loadSyncConfig(flags.config) };
  }
  if (flags.syncConfig) base.sync = loadSyncConfig(flags.syncConfig);
  if (!base.sync) throw new InputValidationError('schedule apply needs the sync to run: --config <schedule file> or --sync-config <sync file>');
  const pick = <T>(flag: T | undefined, fromFile: T | undefined, dflt?: T) => flag ?? fromFile ?? dflt;
  return {
    ...base,
    sync: base.sync,
    id: pick(flags.id, base.id),
    cron: pick(flags.cron, base.cron, config.schedule.cron),
    timeZone: pick(flags.timezone, base.timeZone, config.schedule.timeZone),
    catchupWindow: pick(flags.catchupWindow, base.catchupWindow),
    jitter: pick(flags.jitter, base.jitter),
    executionTimeout: pick(flags.executionTimeout, base.executionTimeout),
    paused: pick(flags.paused, base.paused),
    note: pick(flags.note, base.note),
  };
}

export function formatScheduleStatus(s: ScheduleStatus): string {
  const when = (d: Date) => d.toISOString().replace('.000Z', 'Z');
  const lines = [
    `schedule     ${s.id}${s.paused ? '  [PAUSED]' : ''}${s.note ? `  (${s.note})` : ''}`,
    `spec         cron "${s.cron ?? '?'}" in ${s.timeZone ?? 'UTC'}, jitter ${s.jitter ?? '0s'}, overlap ${s.overlap}, catch-up ${s.catchupWindow}, run timeout ${s.executionTimeout ?? '?'}`,
    `next runs    ${s.nextRuns.slice(0, 3).map(when).join(', ') || '(none)'}`,
    `taken        ${s.actionsTaken} runs, ${s.skippedOverlap} skipped (overlap), ${s.missedCatchupWindow} missed (catch-up window)`,
  ];
  for (const r of s.running) lines.push(`running      ${r.workflowId}`);
  for (const r of s.recent) {
    const d = r.result?.documents;
    const detail = d
      ? `+${d.inserted} ~${d.updated} -${d.deleted} =${d.unchanged}, ${r.result!.chunks.embedded} chunks embedded${r.result!.failedSources.length ? `, failed sources: ${r.result!.failedSources.join(', ')}` : ''}`
      : (r.error ?? '');
    lines.push(`recent       ${when(r.scheduledAt)} ${r.status.padEnd(10)} ${r.workflowId}  ${detail}`);
  }
  return lines.join('\n');
}

function scheduleId(id: string | undefined, opts: { collection?: string }): string {
  if (id) return id;
  if (opts.collection) return defaultScheduleId(opts.collection);
  throw new InputValidationError('name the schedule: an id argument or --collection <name>');
}

function parseDate(value: string, what: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new InputValidationError(`${what}: ${JSON.stringify(value)} is not a date (e.g. 2026-11-01T00:00:00Z)`);
  return d;
}

export function registerScheduleCommands(program: Command): void {
  const schedule = program.command('schedule').description('the nightly sync as a Temporal Schedule');

  schedule
    .command('apply')
    .description('create or update the schedule from config (idempotent: the same config again changes nothing)')
    .option('-c, --config <file>', 'schedule file (JSON/YAML): { id?, cron, timeZone, catchupWindow, jitter, executionTimeout, paused, sync }')
    .option('--sync-config <file>', 'the sync input to run (instead of the schedule file\'s `sync`)')
    .option('--id <id>', 'schedule id (default: sync-<collection>)')
    .option('--cron <expr>', 'cron expression, five fields or @daily/@hourly/... (default: TWINFLOW_SCHEDULE_CRON, "0 2 * * *")')
    .option('--timezone <tz>', 'IANA time zone of the cron (default: TWINFLOW_SCHEDULE_TIMEZONE, UTC)')
    .option('--catchup-window <duration>', 'run missed actions at most this late (default 6h)')
    .option('--jitter <duration>', 'start each run up to this much later (default 0s)')
    .option('--execution-timeout <duration>', 'stop a run after this long; must be shorter than the interval (default: 90% of it, ≤ 23h)')
    .option('--paused', 'create or set paused')
    .option('--no-paused', 'set unpaused')
    .option('--note <text>', 'a note shown with the schedule')
    .option('--json', 'print the outcome and the status as one JSON document')
    .action(async (flags: ApplyFlags & { json?: boolean }) => {
      const config = loadConfig();
      const cfg = scheduleConfigFromFlags(flags, config);
      await withClient(async (client) => {
        const r = await applySyncSchedule(client.client, cfg, { taskQueue: config.temporal.taskQueue });
        const status = await syncScheduleStatus(client.client, r.id);
        if (flags.json) return printJson({ ...r, status });
        const state = r.paused === undefined ? '' : r.paused ? ', paused' : ', unpaused';
        console.log(`schedule ${r.id}: ${r.outcome}${state} (run timeout ${r.executionTimeout})`);
        console.log(formatScheduleStatus(status));
      });
    });

  schedule
    .command('status [id]')
    .description('spec, next runs and recent results')
    .option('--collection <name>', 'the schedule of this collection (sync-<collection>)')
    .option('--recent <n>', 'recent runs to show', (v) => Number(v), 5)
    .option('--json', 'print the status as one JSON document')
    .action(async (id: string | undefined, opts: { collection?: string; recent: number; json?: boolean }) => {
      await withClient(async (client) => {
        const status = await syncScheduleStatus(client.client, scheduleId(id, opts), { recent: opts.recent });
        if (opts.json) printJson(status);
        else console.log(formatScheduleStatus(status));
      });
    });

  schedule
    .command('trigger [id]')
    .description('start a run now')
    .option('--collection <name>')
    .action(async (id: string | undefined, opts: { collection?: string }) => {
      await withClient((client) => triggerSyncSchedule(client.client, scheduleId(id, opts)));
      console.log('triggered');
    });

  for (const verb of ['pause', 'unpause'] as const) {
    schedule
      .command(`${verb} [id]`)
      .description(verb === 'pause' ? 'stop taking scheduled runs' : 'take scheduled runs again')
      .option('--collection <name>')
      .option('--note <text>')
      .action(async (id: string | undefined, opts: { collection?: string; note?: string }) => {
        await withClient((client) => (verb === 'pause' ? pauseSyncSchedule : unpauseSyncSchedule)(client.client, scheduleId(id, opts), opts.note));
        console.log(`${verb}d`);
      });
  }

  schedule
    .command('backfill [id]')
    .description('run the schedule for every firing time in a past range, one after the other')
    .requiredOption('--start <date>', 'range start (ISO 8601)')
    .requiredOption('--end <date>', 'range end (ISO 8601)')
    .option('--collection <name>')
    .action(async (id: string | undefined, opts: { collection?: string; start: string; end: string }) => {
      await withClient((client) => backfillSyncSchedule(client.client, scheduleId(id, opts), parseDate(opts.start, '--start'), parseDate(opts.end, '--end')));
      console.log('backfill requested');
    });

  schedule
    .command('delete [id]')
    .description('delete the schedule (its past runs stay in history)')
    .option('--collection <name>')
    .action(async (id: string | undefined, opts: { collection?: string }) => {
      await withClient((client) => deleteSyncSchedule(client.client, scheduleId(id, opts)));
      console.log('deleted');
    });
}
