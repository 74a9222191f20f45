/**
 * Enough of cron to check a schedule before Temporal gets it: validate a five-field expression (or a macro such as
 * @daily), list its next firing times in the schedule's time zone, and so find the shortest interval between two
 * runs, which a scheduled sync's execution timeout must stay under.
 *
 * `croner` reads the expression and walks the calendar (time zones and daylight saving included). What stays here is
 * the dialect twinflow accepts (the fields and characters Temporal's cron strings share with standard cron: croner's
 * own extensions L, W, # and + are refused) and error messages that name the field and its range, which croner's
 * messages do not do reliably.
 */
import { Cron } from 'croner';

export class CronError extends Error {
  override name = 'CronError';
}

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: string[];
}

const FIELDS: FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] },
  { name: 'day of week', min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
];

const MACROS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

const DAY = 86_400_000;

/** A validated expression, ready to list firing times in its time zone. */
export interface CronSpec {
  expression: string;
  /** IANA time zone the expression is read in. */
  timeZone: string;
  cron: Cron;
}

function value(token: string, f: FieldSpec): number {
  const named = f.names?.indexOf(token.toUpperCase()) ?? -1;
  const n = named >= 0 ? named + f.min : /^\d+$/.test(token) ? Number(token) : NaN;
  if (!Number.isInteger(n) || n < f.min || n > f.max) throw new CronError(`${f.name}: ${JSON.stringify(token)} is not in ${f.min}-${f.max}`);
  return n;
}

/** One field: comma-separated `*`, `?`, a value or a range, each with an optional `/step`. */
function checkField(text: string, f: FieldSpec): void {
  for (const part of text.split(',')) {
    const m = /^(\*|\?|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:\/(\d+))?$/.exec(part);
    if (!m) throw new CronError(`${f.name}: cannot read ${JSON.stringify(part)}`);
    if (m[2] !== undefined && Number(m[2]) < 1) throw new CronError(`${f.name}: step must be at least 1`);
    if (m[1] === '*' || m[1] === '?') continue;
    const [a, b] = m[1]!.split('-');
    const lo = value(a!, f);
    if (b !== undefined && lo > value(b, f)) throw new CronError(`${f.name}: range ${m[1]} runs backwards`);
  }
}

function checkTimeZone(timeZone: string): void {
  try {
    new Intl.DateTimeFormat('en', { timeZone });
  } catch {
    throw new CronError(`time zone ${JSON.stringify(timeZone)} is not an IANA time zone (e.g. Europe/Paris)`);
  }
}

/** Validates `expression` and prepares it for `timeZone` (default UTC). Throws CronError naming what is wrong. */
export function parseCron(expression: string, timeZone = 'UTC'): CronSpec {
  const trimmed = expression.trim();
  if (trimmed.startsWith('@')) {
    if (!MACROS.has(trimmed.toLowerCase())) throw new CronError(`unsupported macro ${JSON.stringify(expression)}: use @yearly, @monthly, @weekly, @daily or @hourly, or five fields`);
  } else {
    const parts = trimmed.split(/\s+/);
    if (parts.length !== 5) throw new CronError(`expected five fields (minute hour day-of-month month day-of-week), got ${parts.length} in ${JSON.stringify(expression)}`);
    parts.forEach((p, i) => checkField(p, FIELDS[i]!));
  }
  checkTimeZone(timeZone);
  try {
    const cron = new Cron(trimmed.startsWith('@') ? trimmed.toLowerCase() : trimmed, {
      paused: true,
      timezone: timeZone,
      mode: '5-part',
      // `5/10` (from 5 to the end, every 10) is standard cron; croner wants it spelled `5-59/10` unless told.
      sloppyRanges: true,
      // A list of times (`0 2,14 * * *`) runs once in a repeated hour, as a single time does (Vixie cron), rather
      // than twice an hour apart.
      fixedTimeRule: 'no-wildcard',
      // Standard cron: when both day fields are restricted, a day matching either one fires.
      domAndDow: false,
    });
    return { expression, timeZone, cron };
  } catch (err) {
    throw new CronError(`cannot read ${JSON.stringify(expression)}: ${(err as Error).message}`);
  }
}

/** The next `count` firing times after `from`, looking at most `horizonDays` ahead. */
export function nextFirings(spec: CronSpec, from: Date, count: number, horizonDays = 1500): Date[] {
  const until = from.getTime() + horizonDays * DAY;
  const out: Date[] = [];
  for (let t = spec.cron.nextRun(from); t && t.getTime() < until && out.length < count; t = spec.cron.nextRun(t)) out.push(t);
  return out;
}

/** The days (UTC midnights) within [from, from + days) at whose end the zone's UTC offset differs from their start. */
function offsetChangeDays(timeZone: string, from: Date, days: number): Date[] {
  const format = new Intl.DateTimeFormat('en', { timeZone, timeZoneName: 'longOffset' });
  const offset = (t: number) => format.formatToParts(t).find((p) => p.type === 'timeZoneName')?.value;
  const start = Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate());
  const out: Date[] = [];
  let before = offset(start);
  for (let i = 0; i < days; i++) {
    const after = offset(start + (i + 1) * DAY);
    if (after !== before) out.push(new Date(start + i * DAY));
    before = after;
  }
  return out;
}

function minGap(times: Date[]): number {
  let min = Infinity;
  for (let i = 1; i < times.length; i++) min = Math.min(min, times[i]!.getTime() - times[i - 1]!.getTime());
  return min;
}

export interface IntervalOptions {
  /** IANA time zone the expression is read in (default UTC). */
  timeZone?: string;
  /** Where to start looking (default 2030-01-01, so that the answer does not depend on today). */
  from?: Date;
}

/**
 * The shortest time between two consecutive runs (ms) in real time, over the next ~4 years of firings, and across
 * every daylight-saving change of the time zone in that span: e.g. a daily 02:00 in Europe/Berlin is 23 hours apart
 * over the night the clocks go forward, and a list of hours can run twice an hour apart in the hour that repeats.
 */
export function shortestInterval(expression: string, options: IntervalOptions | Date = {}): number {
  const { timeZone = 'UTC', from = new Date(Date.UTC(2030, 0, 1)) } = options instanceof Date ? { from: options } : options;
  const spec = parseCron(expression, timeZone);
  const times = nextFirings(spec, from, 2000);
  if (times.length === 0) throw new CronError(`${JSON.stringify(expression)} never fires`);
  if (times.length === 1) return 365 * DAY; // e.g. 29 February: rarer than yearly
  // 2000 firings of a frequent schedule span days or weeks and may miss every clock change: look at each one too,
  // from the day before it (so the last run before the change is included) to two days after.
  const horizon = Math.ceil((times[times.length - 1]!.getTime() - from.getTime()) / DAY);
  let min = minGap(times);
  for (const day of offsetChangeDays(timeZone, from, Math.max(horizon, 4 * 366))) {
    const windowStart = new Date(day.getTime() - DAY);
    min = Math.min(min, minGap(nextFirings(spec, windowStart, 10_000, 4)));
  }
  return min;
}
