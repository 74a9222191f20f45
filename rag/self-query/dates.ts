/**
 * Date expressions of a question → a published-date range (epoch ms, UTC), without an LLM:
 *   "in 2015", "during March 2020", "since March 2020", "after 2018", "before 2019", "until May 2021",
 *   "between 2010 and 2012", "from 2019 to 2021", "2015-2017", "since 2020-03-15", "last year", "this year",
 *   "in the last 3 years", "past 6 months".
 * A bare year elsewhere ("the 2016 election") is left alone: it is more often a topic than a filter.
 */

export interface DateRange {
  gte?: number;
  lte?: number;
  /** The text that produced the range. */
  phrase: string;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH = '(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)';
/** A point in time at day, month or year precision. */
const PERIOD = `(?:\\d{4}-\\d{2}-\\d{2}|${MONTH}\\.?\\s+\\d{4}|\\d{4})`;

interface Period {
  start: number;
  /** Last millisecond of the period. */
  end: number;
}

function parsePeriod(text: string): Period | undefined {
  const t = text.trim().toLowerCase();
  let m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(t);
  if (m) {
    const start = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!);
    if (Number.isNaN(start) || +m[2]! < 1 || +m[2]! > 12 || +m[3]! < 1 || +m[3]! > 31) return undefined;
    return { start, end: start + 86_400_000 - 1 };
  }
  m = new RegExp(`^(${MONTH})\\.?\\s+(\\d{4})$`).exec(t);
  if (m) {
    const month = MONTHS.indexOf(m[1]!.slice(0, 3));
    const year = +m[2]!;
    if (!plausibleYear(year)) return undefined;
    return { start: Date.UTC(year, month, 1), end: Date.UTC(year, month + 1, 1) - 1 };
  }
  m = /^(\d{4})$/.exec(t);
  if (m && plausibleYear(+m[1]!)) return { start: Date.UTC(+m[1]!, 0, 1), end: Date.UTC(+m[1]! + 1, 0, 1) - 1 };
  return undefined;
}

function plausibleYear(y: number): boolean {
  return y >= 1900 && y <= 2200;
}

type Rule = { re: RegExp; range: (m: RegExpExecArray, now: Date) => Omit<DateRange, 'phrase'> | undefined };

const P = `(${PERIOD})`;
const RULES: Rule[] = [
  {
    re: new RegExp(`\\b(?:between|from)\\s+${P}\\s+(?:and|to|until|till|-|–)\\s+${P}\\b`, 'i'),
    range: (m) => {
      const a = parsePeriod(m[1]!);
      const b = parsePeriod(m[2]!);
      return a && b && a.start <= b.end ? { gte: a.start, lte: b.end } : undefined;
    },
  },
  {
    re: /\b(\d{4})\s*[-–]\s*(\d{4})\b/,
    range: (m) => {
      const a = parsePeriod(m[1]!);
      const b = parsePeriod(m[2]!);
      return a && b && a.start < b.start ? { gte: a.start, lte: b.end } : undefined;
    },
  },
  {
    re: new RegExp(`\\b(?:since|from)\\s+${P}\\b`, 'i'),
    range: (m) => {
      const p = parsePeriod(m[1]!);
      return p && { gte: p.start };
    },
  },
  {
    re: new RegExp(`\\b(?:after|later than)\\s+${P}\\b`, 'i'),
    range: (m) => {
      const p = parsePeriod(m[1]!);
      return p && { gte: p.end + 1 };
    },
  },
  {
    re: new RegExp(`\\b(?:before|prior to|earlier than)\\s+${P}\\b`, 'i'),
    range: (m) => {
      const p = parsePeriod(m[1]!);
      return p && { lte: p.start - 1 };
    },
  },
  {
    re: new RegExp(`\\b(?:until|till|through|up to)\\s+${P}\\b`, 'i'),
    range: (m) => {
      const p = parsePeriod(m[1]!);
      return p && { lte: p.end };
    },
  },
  {
    re: new RegExp(`\\b(?:in|during|published in|written in)\\s+${P}\\b`, 'i'),
    range: (m) => {
      const p = parsePeriod(m[1]!);
      return p && { gte: p.start, lte: p.end };
    },
  },
  {
    re: /\b(?:in\s+)?(?:the\s+)?(?:last|past)\s+(\d{1,3})\s+(day|week|month|year)s?\b/i,
    range: (m, now) => {
      const n = +m[1]!;
      const d = new Date(now);
      const unit = m[2]!.toLowerCase();
      if (unit === 'day') d.setUTCDate(d.getUTCDate() - n);
      else if (unit === 'week') d.setUTCDate(d.getUTCDate() - 7 * n);
      else if (unit === 'month') d.setUTCMonth(d.getUTCMonth() - n);
      else d.setUTCFullYear(d.getUTCFullYear() - n);
      return { gte: d.getTime(), lte: now.getTime() };
    },
  },
  {
    re: /\b(last|this)\s+year\b/i,
    range: (m, now) => {
      const year = now.getUTCFullYear() - (m[1]!.toLowerCase() === 'last' ? 1 : 0);
      return { gte: Date.UTC(year, 0, 1), lte: Date.UTC(year + 1, 0, 1) - 1 };
    },
  },
];

/** The first date expression found (rules are ordered most specific first), or undefined. */
export function extractDateRange(question: string, now: Date = new Date()): DateRange | undefined {
  for (const rule of RULES) {
    const m = rule.re.exec(question);
    if (!m) continue;
    const range = rule.range(m, now);
    if (range) return { ...range, phrase: m[0] };
  }
  return undefined;
}

/** Parses an ISO date or date-time the LLM extractor returned, to epoch ms; undefined if it is not one. */
export function parseIsoDate(value: string, edge: 'start' | 'end'): number | undefined {
  const p = parsePeriod(value);
  if (p) return edge === 'start' ? p.start : p.end;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}
