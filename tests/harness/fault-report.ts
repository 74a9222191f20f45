/**
 * The fault suite's measured rows: each fault test records what it injected, what happened and the store's counts
 * before (the clean run of the same input) and after, in .twinflow/fault-stack/report.json. A test that runs again
 * replaces its row. The global teardown renders the rows as the Markdown table that docs/reliability.md quotes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { FAULT_REPORT_PATH } from './fault-stack';

export interface StoreCounts {
  documents: number;
  points: number;
}

export interface FaultRow {
  /** The test's full name: `npm run test:faults -- -t '<name>'` runs it alone. */
  name: string;
  /** The fault's number in docs/reliability.md (rows are listed in this order). */
  order: number;
  /** What was injected, in words. */
  injected: string;
  /** What the run did about it, in words (measured: attempts, waits, resumed steps). */
  happened: string;
  /** The clean run of the same input. */
  clean: StoreCounts;
  /** The faulted run. */
  after: StoreCounts;
  lost: number;
  duplicated: number;
  /** What `documents` and `points` count when not documents and points (training: examples and steps). */
  units?: { documents: string; points: string };
  /** Measured extras (attempts, downtime, peak RSS, ...). */
  metrics?: Record<string, number | string | boolean>;
  wallMs: number;
  at?: string;
}

export interface LoadFigures {
  ingests: number;
  syncs: number;
  peakRssMiB: number;
  boundMiB: number;
  wallMs: number;
  documents: number;
  points: number;
  embedding: string;
  at?: string;
}

export interface FaultReport {
  rows: FaultRow[];
  load?: LoadFigures;
  suite?: { startedAt: string; wallMs?: number; testsRun?: number; machine?: string };
}

export function readReport(): FaultReport {
  try {
    return JSON.parse(fs.readFileSync(FAULT_REPORT_PATH, 'utf8')) as FaultReport;
  } catch {
    return { rows: [] };
  }
}

function writeReport(r: FaultReport): void {
  fs.mkdirSync(path.dirname(FAULT_REPORT_PATH), { recursive: true });
  const tmp = `${FAULT_REPORT_PATH}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(r, null, 2)}\n`);
  fs.renameSync(tmp, FAULT_REPORT_PATH);
}

/** Fault test files run one after another (fileParallelism: false), so read-modify-write is safe. */
export function recordFaultRow(row: FaultRow): void {
  const r = readReport();
  const stamped = { ...row, at: new Date().toISOString() };
  const i = r.rows.findIndex((x) => x.name === row.name);
  if (i >= 0) r.rows[i] = stamped;
  else r.rows.push(stamped);
  writeReport(r);
}

export function recordLoadFigures(load: LoadFigures): void {
  const r = readReport();
  r.load = { ...load, at: new Date().toISOString() };
  writeReport(r);
}

export function updateSuite(patch: Partial<NonNullable<FaultReport['suite']>>): void {
  const r = readReport();
  r.suite = { ...(r.suite ?? { startedAt: new Date().toISOString() }), ...patch };
  writeReport(r);
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The rows as the Markdown table of docs/reliability.md. */
export function renderReport(r: FaultReport = readReport()): string {
  const lines = [
    '| fault | injected | what happened | documents clean → after | points clean → after | lost | duplicated | wall | reproduce |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const row of [...r.rows].sort((a, b) => a.order - b.order)) {
    lines.push(
      `| ${cell(row.name)} | ${cell(row.injected)} | ${cell(row.happened)} | ${row.clean.documents} → ${row.after.documents}${row.units ? ` ${row.units.documents}` : ''} | ${row.clean.points} → ${row.after.points}${row.units ? ` ${row.units.points}` : ''} | ${row.lost} | ${row.duplicated} | ${(row.wallMs / 1000).toFixed(0)} s | \`npm run test:faults -- -t '${row.name}'\` |`,
    );
  }
  if (r.load) {
    const l = r.load;
    lines.push('', `Load: ${l.ingests} concurrent ingests + ${l.syncs} sync on one worker process (${l.embedding}): ${l.documents} documents, ${l.points} points; peak RSS ${l.peakRssMiB} MiB (bound ${l.boundMiB} MiB); wall ${(l.wallMs / 1000).toFixed(1)} s.`);
  }
  if (r.suite?.wallMs) lines.push('', `Suite: ${r.suite.testsRun ?? '?'} tests in ${(r.suite.wallMs / 60_000).toFixed(1)} min (started ${r.suite.startedAt}${r.suite.machine ? `, ${r.suite.machine}` : ''}).`);
  return `${lines.join('\n')}\n`;
}
