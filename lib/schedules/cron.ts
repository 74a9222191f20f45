/**
 * Just enough of cron to check a schedule before Temporal gets it: parse a five-field expression (or a macro such as
 * @daily), list its next firing times, and so find the shortest interval between two runs, which a scheduled sync's
 * execution timeout must stay under. Evaluated in UTC: the gaps are the same in any zone except across a daylight
 * saving change (an hour), which the default timeout's 10% margin covers.
 */

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

const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

export interface CronSpec {
  minutes: Set<number>;
  hours: Set<number>;
  daysOfMonth: Set<number>;
  months: Set<number>;
  daysOfWeek: Set<number>;
  /** Standard cron: when both day fields are restricted, a day matching either one fires. */
  domRestricted: boolean;
  dowRestricted: boolean;
}

function value(token: string, f: FieldSpec): number {
  const named = f.names?.indexOf(token.toUpperCase()) ?? -1;
  const n = named >= 0 ? named + f.min : /^\d+$/.test(token) ? Number(token) : NaN;
  if (!Number.isInteger(n) || n < f.min || n > f.max) throw new CronError(`${f.name}: ${JSON.stringify(token)} is not in ${f.min}-${f.max}`);
  return n;
}

function parseField(text: string, f: FieldSpec): Set<number> {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^([^/]+)(?:\/(\d+))?$/.exec(part);
    if (!m) throw new CronError(`${f.name}: cannot read ${JSON.stringify(part)}`);
    const step = m[2] !== undefined ? Number(m[2]) : 1;
    if (step < 1) throw new CronError(`${f.name}: step must be at least 1`);
    let lo: number;
    let hi: number;
    if (m[1] === '*' || m[1] === '?') [lo, hi] = [f.min, f.max];
    else if (m[1]!.includes('-')) {
      const [a, b] = m[1]!.split('-');
      [lo, hi] = [value(a!, f), value(b!, f)];
      if (lo > hi) throw new CronError(`${f.name}: range ${m[1]} runs backwards`);
    } else {
      lo = value(m[1]!, f);
      hi = m[2] !== undefined ? f.max : lo;
    }
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

export function parseCron(expression: string): CronSpec {
  const expr = MACROS[expression.trim().toLowerCase()] ?? expression.trim();
  if (expr.startsWith('@')) throw new CronError(`unsupported macro ${JSON.stringify(expression)}: use @yearly, @monthly, @weekly, @daily or @hourly, or five fields`);
  const parts = expr.split(/\s+/);
  if (parts.length !== 5) throw new CronError(`expected five fields (minute hour day-of-month month day-of-week), got ${parts.length} in ${JSON.stringify(expression)}`);
  const [mi, h, dom, mo, dow] = parts.map((p, i) => parseField(p, FIELDS[i]!)) as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  if (dow.has(7)) dow.add(0); // 7 is Sunday too
  return {
    minutes: mi,
    hours: h,
    daysOfMonth: dom,
    months: mo,
    daysOfWeek: dow,
    domRestricted: !(parts[2] === '*' || parts[2] === '?'),
    dowRestricted: !(parts[4] === '*' || parts[4] === '?'),
  };
}

function dayMatches(spec: CronSpec, d: Date): boolean {
  if (!spec.months.has(d.getUTCMonth() + 1)) return false;
  const dom = spec.daysOfMonth.has(d.getUTCDate());
  const dow = spec.daysOfWeek.has(d.getUTCDay());
  if (spec.domRestricted && spec.dowRestricted) return dom || dow;
  return dom && dow;
}

/** The next `count` firing times after `from` (UTC), looking at most `horizonDays` ahead. */
export function nextFirings(spec: CronSpec, from: Date, count: number, horizonDays = 1500): Date[] {
  const out: Date[] = [];
  const minutes = [...spec.minutes].sort((a, b) => a - b);
  const hours = [...spec.hours].sort((a, b) => a - b);
  const day = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate()));
  for (let i = 0; i < horizonDays && out.length < count; i++, day.setUTCDate(day.getUTCDate() + 1)) {
    if (!dayMatches(spec, day)) continue;
    for (const h of hours) {
      for (const m of minutes) {
        const t = new Date(day.getTime() + h * 3_600_000 + m * 60_000);
        if (t > from) out.push(t);
        if (out.length >= count) return out;
      }
    }
  }
  return out;
}

/** The shortest time between two consecutive runs (ms), over the next ~4 years of firings. */
export function shortestInterval(expression: string, from = new Date(Date.UTC(2030, 0, 1))): number {
  const spec = parseCron(expression);
  const times = nextFirings(spec, from, 2000);
  if (times.length === 0) throw new CronError(`${JSON.stringify(expression)} never fires`);
  if (times.length === 1) return 365 * 86_400_000; // e.g. 29 February: rarer than yearly
  let min = Infinity;
  for (let i = 1; i < times.length; i++) min = Math.min(min, times[i]!.getTime() - times[i - 1]!.getTime());
  return min;
}
